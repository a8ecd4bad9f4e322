# payrun: plain Makefile.  `make`, `make check`, `make demo`, `make bench`.
#
# Flags.  CFLAGS (default -O2 -g), CPPFLAGS, LDFLAGS and LDLIBS are the
# user's: the project's own flags (-std, warnings, include paths, -MMD -MP,
# hardening) are kept apart and always used, so `make CFLAGS='-O0 -g'`
# builds.  A compile is
#   $(CC) <project flags> $(CPPFLAGS) $(CFLAGS) $(CFLAGS_APPEND)
# and a link adds <project LDFLAGS> $(LDFLAGS) $(LDFLAGS_APPEND) and, after
# the project's libraries, $(LDLIBS).  CFLAGS_APPEND adds to the default
# CFLAGS without restating them (make CFLAGS_APPEND=-Wno-error=foo).  When
# the flags of a build directory change, all of it is rebuilt.
#   SANITIZE=address,undefined  sanitizers (builds in build-san/); no _FORTIFY_SOURCE
#   FAULTS=1                    fault points compiled in (fault.h; builds in build-faults/)
#   WERROR=0                    warnings are not errors
#   CC=clang                    another compiler

VERSION    := 0.1.0
CC         ?= cc
PKGS       := zlib libconfuse jansson libcrypto libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# The user's: only defaults here, never added to.
CFLAGS ?= -O2 -g

# The project's, always used.
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wformat=2 -Wvla -Wundef -Wcast-align
PAYRUN_CPPFLAGS := -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) -DPAYRUN_VERSION='"$(VERSION)"'
PAYRUN_CFLAGS   := -std=c11 $(WARN) -fstack-protector-strong -fPIE -MMD -MP
PAYRUN_LDFLAGS  := -pie -Wl,-z,relro,-z,now
PAYRUN_LIBS     := $(PKG_LIBS) -lpthread
ifneq ($(WERROR),0)
PAYRUN_CFLAGS   += -Werror
endif

# Fault points (PAYRUN_FAULT, fault.h) are compiled into test builds only.
ifeq ($(FAULTS),1)
PAYRUN_CPPFLAGS += -DPAYRUN_FAULT_POINTS
endif

ifdef SANITIZE
PAYRUN_CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
PAYRUN_LDFLAGS  += -fsanitize=$(SANITIZE)
else ifeq ($(filter -D_FORTIFY_SOURCE% -U_FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS) $(CFLAGS_APPEND)),)
# (unless the user's flags choose a level: a second definition would be an error)
PAYRUN_CPPFLAGS += -D_FORTIFY_SOURCE=2
endif

ALL_CFLAGS  = $(PAYRUN_CFLAGS) $(PAYRUN_CPPFLAGS) $(CPPFLAGS) $(CFLAGS) $(CFLAGS_APPEND)
ALL_LDFLAGS = $(PAYRUN_LDFLAGS) $(LDFLAGS) $(LDFLAGS_APPEND)

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

# libcsv is the tests' reference CSV reader and a benchmark baseline, never
# a dependency of payrun: only the programs that call it link it.
LIBCSV_USERS := $(B)/tests/check_csvscan $(B)/tools/libcsv_only
$(LIBCSV_USERS): EXTRA_LIBS := -lcsv

.PHONY: all check unit e2e demo bench deps clean fuzz tools FORCE
all: payrun

payrun: $(B)/payrun
	cp $< $@

# The flags $(B) was built with.  Rewritten only when they change, and every
# object and program depends on it, so `make CFLAGS=-O0` after `make`
# rebuilds rather than linking the -O2 objects.
BUILD_FLAGS = $(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) | $(ALL_LDFLAGS) | $(PAYRUN_LIBS) $(LDLIBS)

$(B)/build-flags: FORCE | $(B)
	@flags='$(subst ','\'',$(BUILD_FLAGS))'; \
	if [ "$$flags" != "$$(cat $@ 2>/dev/null)" ]; then \
		if [ -f $@ ]; then echo "make: the build flags of $(B)/ changed: rebuilding it"; fi; \
		printf '%s\n' "$$flags" >$@; \
	fi

$(B)/payrun: $(CLI_OBJ) $(B)/libpayrun.a $(B)/build-flags
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(B)/libpayrun.a $(PAYRUN_LIBS) $(LDLIBS)

$(B)/libpayrun.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

# SQL lives in sql/; the program gets it compiled in.
$(B)/sql_embed.c: $(SQL_SRC) tools/embed-sql.sh | $(B)
	sh tools/embed-sql.sh $@

$(B)/sql_embed.o: $(B)/sql_embed.c $(B)/build-flags
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/%.o: src/%.c $(B)/build-flags | $(B)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libpayrun.a $(B)/build-flags | $(B)/tests
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libpayrun.a \
		$(EXTRA_LIBS) $(PAYRUN_LIBS) $(CHECK_LIBS) $(LDLIBS)

$(B)/tools/%: tools/%.c $(B)/libpayrun.a $(B)/build-flags | $(B)/tools
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libpayrun.a \
		$(EXTRA_LIBS) $(PAYRUN_LIBS) $(LDLIBS)

$(B) $(B)/tests $(B)/tools:
	mkdir -p $@

FORCE:

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
