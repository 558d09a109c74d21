# copybench — `make` builds the six binaries; `make test` runs every test.
CC      ?= cc
CFLAGS  ?= -O2 -g
# `override`: `make CFLAGS=...` adds to these instead of dropping them
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -pthread
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

bench/memcpy_bw: bench/memcpy_bw.c common.o common.h
	$(CC) $(CFLAGS) -I. -o $@ $< common.o $(LDFLAGS) $(LDLIBS)

clean:
	rm -f $(BINS) common.o tests/unit bench/memcpy_bw
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
FUZZ_TIME  ?= 20
FUZZERS    := fuzz_hello fuzz_parse

ASAN_BINS := $(addprefix build/asan/,$(BINS) unit)
TSAN_BINS := $(addprefix build/tsan/,$(BINS) unit)

.PHONY: sanitize fuzz
sanitize: all $(ASAN_BINS) $(TSAN_BINS)
	bash tests/sanitize.sh build/asan build/tsan

# $(call san_rules,KIND,FLAGS): common.o, the unit tests and the six
# binaries of one sanitizer build in build/KIND
define san_rules
build/$(1)/common.o: common.c common.h
	@mkdir -p $$(@D)
	$$(SAN_CC) $$(SAN_CFLAGS) $(2) -c -o $$@ common.c
build/$(1)/unit: tests/unit.c build/$(1)/common.o common.h
	$$(SAN_CC) $$(SAN_CFLAGS) $(2) -I. -o $$@ tests/unit.c build/$(1)/common.o $$(LDFLAGS) $$(LDLIBS)
build/$(1)/%: %.c build/$(1)/common.o common.h
	$$(SAN_CC) $$(SAN_CFLAGS) $(2) -o $$@ $$< build/$(1)/common.o $$(LDFLAGS) $$(LDLIBS)
endef
$(eval $(call san_rules,asan,$(ASAN_FLAGS)))
$(eval $(call san_rules,tsan,$(TSAN_FLAGS)))

# FUZZ_STRICT=1 (default): stricter properties (see tests/fuzz/run.sh);
# FUZZ_STRICT= (empty) for the basic ones, in their own build dir
FUZZ_STRICT ?= 1
FUZZ_DIR   := build/fuzz$(if $(FUZZ_STRICT),-strict)
fuzz: $(addprefix $(FUZZ_DIR)/,$(FUZZERS))
	bash tests/fuzz/run.sh $(FUZZ_TIME) $^

$(FUZZ_DIR)/common.o: common.c common.h
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -c -o $@ common.c
$(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_DIR)/common.o common.h
	$(SAN_CC) $(SAN_CFLAGS) $(FUZZ_FLAGS) $(if $(FUZZ_STRICT),-DFUZZ_STRICT) -I. -o $@ $< $(FUZZ_DIR)/common.o $(LDFLAGS) $(LDLIBS)
