# copybench — `make` builds the six binaries; `make test` runs every test.
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -pthread
LDFLAGS += -pthread
LDLIBS  += -lm

BINS := a1_server a1_client a2_server a2_client a3_server a3_client

.PHONY: all test bench clean
all: $(BINS)

common.o: common.c common.h
	$(CC) $(CFLAGS) -c -o $@ common.c

$(BINS): %: %.c common.o common.h
	$(CC) $(CFLAGS) -o $@ $< common.o $(LDFLAGS) $(LDLIBS)

tests/unit: tests/unit.c common.o common.h
	$(CC) $(CFLAGS) -I. -o $@ tests/unit.c common.o $(LDFLAGS) $(LDLIBS)

test: all tests/unit
	bash tests/run.sh

bench: all bench/memcpy_bw

bench/memcpy_bw: bench/memcpy_bw.c
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

clean:
	rm -f $(BINS) common.o tests/unit bench/memcpy_bw
