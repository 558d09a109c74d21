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

bench/memcpy_bw: bench/memcpy_bw.c
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

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

build/asan/common.o: common.c common.h
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN_CFLAGS) $(ASAN_FLAGS) -c -o $@ common.c
build/asan/unit: tests/unit.c build/asan/common.o common.h
	$(SAN_CC) $(SAN_CFLAGS) $(ASAN_FLAGS) -I. -o $@ tests/unit.c build/asan/common.o $(LDFLAGS) $(LDLIBS)
build/asan/%: %.c build/asan/common.o common.h
	$(SAN_CC) $(SAN_CFLAGS) $(ASAN_FLAGS) -o $@ $< build/asan/common.o $(LDFLAGS) $(LDLIBS)

build/tsan/common.o: common.c common.h
	@mkdir -p $(@D)
	$(SAN_CC) $(SAN_CFLAGS) $(TSAN_FLAGS) -c -o $@ common.c
build/tsan/unit: tests/unit.c build/tsan/common.o common.h
	$(SAN_CC) $(SAN_CFLAGS) $(TSAN_FLAGS) -I. -o $@ tests/unit.c build/tsan/common.o $(LDFLAGS) $(LDLIBS)
build/tsan/%: %.c build/tsan/common.o common.h
	$(SAN_CC) $(SAN_CFLAGS) $(TSAN_FLAGS) -o $@ $< build/tsan/common.o $(LDFLAGS) $(LDLIBS)

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
