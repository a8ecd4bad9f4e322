# payrun: plain Makefile.  `make`, `make check`, `make demo`, `make bench`.
# SANITIZE=address,undefined builds everything with those sanitizers.

VERSION   := 0.1.0
CC        ?= cc
PKGS      := zlib libconfuse jansson libcrypto libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wvla -Wundef -Wcast-align
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Ibuild $(PKG_CFLAGS) \
           -fstack-protector-strong -fPIE -MMD -MP -DPAYRUN_VERSION='"$(VERSION)"'
ifneq ($(WERROR),0)
CFLAGS  += -Werror
endif
LDFLAGS += -pie -Wl,-z,relro,-z,now
LDLIBS  += $(PKG_LIBS) -lcsv -lpthread

# Fault points (PAYRUN_FAULT, fault.h) are compiled into test builds only.
ifeq ($(FAULTS),1)
CFLAGS  += -DPAYRUN_FAULT_POINTS
endif

ifdef SANITIZE
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
else
CFLAGS  += -D_FORTIFY_SOURCE=2
endif

# Sanitizer builds live in their own directory, never mixed with plain objects.
B ?= $(if $(SANITIZE),build-san,$(if $(filter 1,$(FAULTS)),build-faults,build))
# Modules shared by the binary and the unit tests (everything but main and the CLI files).
LIB_SRC := $(filter-out src/payrun.c src/cli_%.c,$(wildcard src/*.c))
CLI_SRC := src/payrun.c $(wildcard src/cli_*.c)
LIB_OBJ := $(LIB_SRC:src/%.c=$(B)/%.o) $(B)/sql_embed.o
SQL_SRC := $(wildcard sql/*.sql sql/migrations/*.sql)
CLI_OBJ := $(CLI_SRC:src/%.c=$(B)/%.o)

UNIT_SRC := $(wildcard tests/unit/check_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC := $(wildcard tools/*.c)
TOOL_BIN := $(TOOL_SRC:tools/%.c=$(B)/tools/%)

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

.PHONY: all check unit e2e demo bench deps clean fuzz tools
all: payrun

payrun: $(B)/payrun
	cp $< $@

$(B)/payrun: $(CLI_OBJ) $(B)/libpayrun.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libpayrun.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

# SQL lives in sql/; the program gets it compiled in.
$(B)/sql_embed.c: $(SQL_SRC) tools/embed-sql.sh | $(B)
	sh tools/embed-sql.sh $@

$(B)/sql_embed.o: $(B)/sql_embed.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/%.o: src/%.c | $(B)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libpayrun.a | $(B)/tests
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libpayrun.a $(LDLIBS) $(CHECK_LIBS)

$(B)/tools/%: tools/%.c $(B)/libpayrun.a | $(B)/tools
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libpayrun.a $(LDLIBS)

$(B) $(B)/tests $(B)/tools:
	mkdir -p $@

tools: $(TOOL_BIN)

# Installs the Debian packages a fresh machine lacks (only when root; otherwise it says what is missing).
deps:
	@sh tools/install-deps.sh

# The whole test suite: every suite against $(B)'s binary, then (unless this
# is already the sanitizer pass) the same suites under AddressSanitizer and
# UndefinedBehaviorSanitizer, the CSV suite under ThreadSanitizer, then a
# short libFuzzer run of every target.
# The suites generate data with the plain build/tools/gen_probes; under the
# sanitizers the memory bounds of the fault suite are scaled by 4 (the plain
# pass checks the real ones).
CHECK_ENV := PAYRUN=$(CURDIR)/$(B)/payrun $(if $(SANITIZE),FAULTS_MEM_SCALE=4)

check: $(B)/payrun $(UNIT_BIN) $(TOOL_BIN)
	@$(if $(SANITIZE),$(MAKE) --no-print-directory B=build SANITIZE= tools)
	@sh tests/run-unit.sh $(UNIT_BIN)
	@$(CHECK_ENV) sh tests/e2e/run.sh
	@$(CHECK_ENV) bash tests/e2e/pg.sh
	@$(CHECK_ENV) bash tests/e2e/jobs.sh
	@$(if $(SANITIZE),,$(MAKE) --no-print-directory FAULTS=1 build-faults/payrun)
	@$(CHECK_ENV) $(if $(SANITIZE),,PAYRUN=$(CURDIR)/build-faults/payrun) bash tests/e2e/faults.sh
ifndef SANITIZE
	@cp $(B)/payrun payrun
	@echo "check: the same suites with SANITIZE=address,undefined"
	@$(MAKE) --no-print-directory check SANITIZE=address,undefined FAULTS=1
	@echo "check: the CSV suite with ThreadSanitizer (clang; files are read at once)"
	@$(MAKE) --no-print-directory B=build-tsan CC=clang SANITIZE=thread build-tsan/payrun
	@PAYRUN=$(CURDIR)/build-tsan/payrun TSAN_OPTIONS=halt_on_error=1 sh tests/e2e/run.sh
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-15} sh tests/fuzz/run.sh
endif

# libFuzzer targets (clang): FUZZ_SECONDS per target (default 15).
fuzz:
	@sh tests/fuzz/run.sh

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

e2e: payrun $(TOOL_BIN)
	@sh tests/e2e/run.sh
	@bash tests/e2e/pg.sh
	@bash tests/e2e/jobs.sh
	@bash tests/e2e/faults.sh

demo: deps
	$(MAKE) payrun tools
	@sh tools/demo.sh

bench: payrun $(TOOL_BIN)
	@sh tools/bench.sh
	@bash tools/bench_pg.sh

clean:
	rm -rf build build-san build-tsan build-faults payrun demo-out

-include $(wildcard $(B)/*.d $(B)/tests/*.d $(B)/tools/*.d)
