# copybench — `make` builds the six binaries (and the sweep's tools: cb_idle_poll, cb_drift); `make test` runs every test.
CC      ?= cc
CFLAGS  ?= -O2 -g
# `override`: `make CFLAGS=...` adds to these instead of dropping them
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -pthread
LDFLAGS += -pthread
LDLIBS  += -lm

BINS := a1_server a1_client a2_server a2_client a3_server a3_client

# The shared code (common.h maps its files), in one list.  Each build
# compiles it once into DIR/libcopybench.a (objects in DIR/obj/): build/ for
# the binaries, tests/unit and bench/memcpy_bw; build/asan, build/tsan and
# build/fuzz* for the sanitizer and fuzz builds.  Every file of it includes
# both headers, so a change to either rebuilds all of it.
LIB_SRCS := common.c lib/msg.c lib/netio.c lib/conn.c lib/zc_pool.c lib/uring.c lib/report.c lib/window.c lib/cli.c lib/server.c lib/client.c lib/rx_zc.c lib/pagecache.c lib/samples.c
LIB_HDRS := common.h lib/internal.h
LIB      := build/libcopybench.a

# $(call lib_rules,DIR,COMPILER AND FLAGS): DIR/libcopybench.a from LIB_SRCS
define lib_rules
$(1)/obj/%.o: %.c $$(LIB_HDRS)
	@mkdir -p $$(@D)
	$(2) -c -o $$@ $$<
$(1)/libcopybench.a: $$(patsubst %.c,$(1)/obj/%.o,$$(LIB_SRCS))
	rm -f $$@
	$$(AR) rcs $$@ $$^
endef

.PHONY: all test bench clean
TOOLS := tools/cb_idle_poll tools/cb_drift
all: $(BINS) $(TOOLS)

$(eval $(call lib_rules,build,$$(CC) $$(CFLAGS)))

$(BINS): %: %.c $(LIB) common.h
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

# the sweep's helpers: --idle-poll's poller, the machine-drift probe
$(TOOLS): tools/%: tools/%.c $(LIB) common.h
	$(CC) $(CFLAGS) -I. -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

tests/unit: tests/unit.c $(LIB) common.h
	$(CC) $(CFLAGS) -I. -o $@ tests/unit.c $(LIB) $(LDFLAGS) $(LDLIBS)

test: all tests/unit
	bash tests/run.sh

bench: all bench/memcpy_bw

bench/memcpy_bw: bench/memcpy_bw.c $(LIB) common.h
	$(CC) $(CFLAGS) -I. -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

clean:
	rm -f $(BINS) tests/unit bench/memcpy_bw $(TOOLS)
	rm -rf build

# ---- sanitizers, valgrind, fuzzing (issue 8) -------------------------------
# `make sanitize`: the six binaries (and the unit tests) built with
# AddressSanitizer+UBSan into build/asan and ThreadSanitizer into build/tsan,
# the integration tests run against each (tests/sanitize.sh; any sanitizer
# report fails the run), then one short valgrind memcheck run per binary.
# `make fuzz`: libFuzzer targets for the hello/reply decoders and the value
# parsers, FUZZ_TIME seconds each, seeded from tests/fuzz/corpus/.
SAN_CC     ?= clang
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror -pthread
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
TSAN_FLAGS := -fsanitize=thread
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LIB_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_TIME  ?= 20
FUZZERS    := fuzz_hello fuzz_parse

ASAN_BINS := $(addprefix build/asan/,$(BINS) unit $(TOOLS))
TSAN_BINS := $(addprefix build/tsan/,$(BINS) unit $(TOOLS))

.PHONY: sanitize fuzz
sanitize: all $(ASAN_BINS) $(TSAN_BINS)
	bash tests/sanitize.sh build/asan build/tsan

# $(call san_rules,KIND,FLAGS): the library, the unit tests, the six
# binaries and the tools of one sanitizer build in build/KIND
define san_rules
$(call lib_rules,build/$(1),$$(SAN_CC) $$(SAN_CFLAGS) $(2))
build/$(1)/unit: tests/unit.c build/$(1)/libcopybench.a common.h
	$$(SAN_CC) $$(SAN_CFLAGS) $(2) -I. -o $$@ tests/unit.c build/$(1)/libcopybench.a $$(LDFLAGS) $$(LDLIBS)
build/$(1)/%: %.c build/$(1)/libcopybench.a common.h
	@mkdir -p $$(@D)
	$$(SAN_CC) $$(SAN_CFLAGS) $(2) -I. -o $$@ $$< build/$(1)/libcopybench.a $$(LDFLAGS) $$(LDLIBS)
endef
$(eval $(call san_rules,asan,$(ASAN_FLAGS)))
$(eval $(call san_rules,tsan,$(TSAN_FLAGS)))

# FUZZ_STRICT=1 (default): stricter properties (see tests/fuzz/run.sh);
# FUZZ_STRICT= (empty) for the basic ones, in their own build dir
FUZZ_STRICT ?= 1
FUZZ_DIR   := build/fuzz$(if $(FUZZ_STRICT),-strict)
fuzz: $(addprefix $(FUZZ_DIR)/,$(FUZZERS))
	bash tests/fuzz/run.sh $(FUZZ_TIME) $^

$(eval $(call lib_rules,$(FUZZ_DIR),$$(SAN_CC) $$(SAN_CFLAGS) $$(FUZZ_LIB_FLAGS)))
$(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_DIR)/libcopybench.a common.h
	$(SAN_CC) $(SAN_CFLAGS) $(FUZZ_FLAGS) $(if $(FUZZ_STRICT),-DFUZZ_STRICT) -I. -o $@ $< $(FUZZ_DIR)/libcopybench.a $(LDFLAGS) $(LDLIBS)
