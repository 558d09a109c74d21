/* a3_client.c — receiver for strategy a3 (zero-copy).  Every client receives
 * the same way (see client_main in lib/client.c), so this file only names the
 * strategy it asks the server for. */
#include "common.h"

int main(int argc, char **argv)
{
	return client_main(argc, argv, STRAT_A3);
}
