# payrun: plain Makefile.
#
#   make               ./payrun, the product (no fault points, no libcsv)
#   make check         the lints, the unit and end-to-end suites, the same under
#                      ASan+UBSan, the CSV suite under TSan, then libFuzzer
#   make lint          format-check (clang-format 14, .clang-format) and
#                      function-length (src/); make check runs it first
#   make format        reformat the C tree with clang-format
#   make install       the program, man pages, example config and jobs, the cron
#                      file, systemd units and logrotate snippet (below);
#                      make uninstall removes them, given the same variables
#   make demo | bench | fuzz | unit | e2e | tools | deps | clean
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
#   FAULTS=1                    fault points compiled in (fault.h), for tests:
#                               builds in build-faults/ and leaves ./payrun alone
#   WERROR=0                    warnings are not errors
#   CC=clang                    another compiler
#   FUNCTION_MAX_LINES=N        the function-length limit (default 150)
#
# Installation, on make's command line (the environment's PREFIX and the
# like are ignored; docs/operations.md, "Installing"):
#   PREFIX=/usr/local   BINDIR=$(PREFIX)/bin   MANDIR=$(PREFIX)/share/man
#   DOCDIR=$(PREFIX)/share/doc/payrun   UNITDIR=$(PREFIX)/lib/systemd/system
#   SYSCONFDIR=/etc     compiled in: the config file is
#                       $(SYSCONFDIR)/payrun/payrun.conf
#   DESTDIR=            staging root, prefixed to every destination

VERSION    := 0.1.0

# Where make install puts things (plain '=': only make's command line
# overrides them, not a PREFIX that happens to be in the environment).
# SYSCONFDIR is /etc whatever the PREFIX, where the config file and job
# files of a system service are looked for.
PREFIX     = /usr/local
BINDIR     = $(PREFIX)/bin
MANDIR     = $(PREFIX)/share/man
DOCDIR     = $(PREFIX)/share/doc/payrun
UNITDIR    = $(PREFIX)/lib/systemd/system
SYSCONFDIR = /etc
DESTDIR    =
CC         ?= cc
PKGS       := zlib libisal libconfuse jansson libcrypto libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# The user's: only defaults here, never added to.
CFLAGS ?= -O2 -g

# The project's, always used.
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wformat=2 -Wvla -Wundef -Wcast-align
PAYRUN_CPPFLAGS := -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) -DPAYRUN_VERSION='"$(VERSION)"' \
                   -DPAYRUN_SYSCONFDIR='"$(SYSCONFDIR)"'
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

# Test and sanitizer builds live in their own directories, never mixed with
# the product's objects.
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
# ISA-L's inflater alone, make bench's other inflate floor (libisal-dev).
$(B)/tools/inflate_isal: EXTRA_LIBS := $(shell pkg-config --libs libisal 2>/dev/null || echo -lisal)

FUNCTION_MAX_LINES ?= 150

.PHONY: all check unit e2e demo bench deps clean fuzz tools lint format format-check \
        function-length check-product install uninstall FORCE

# ./payrun is a copy of $(B)/payrun, refreshed whenever they differ; a
# build with fault points stays in its directory.
ifeq ($(FAULTS),1)
all: $(B)/payrun
	@echo "built $(B)/payrun, with fault points (./payrun is left as it was)"

payrun: FORCE
	@echo "make: ./payrun never has fault points; with FAULTS=1, build $(B)/payrun" >&2
	@exit 2
else
all: payrun

payrun: $(B)/payrun FORCE
	@cmp -s $< $@ || { echo "cp $< $@"; cp $< $@; }
endif

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

# ---- install ----

# tools/install.sh holds the one list of what goes where, so that uninstall
# removes exactly what install put there.  Only the product is installed:
# never a build with fault points or sanitizers.
INSTALL_ENV = DESTDIR='$(DESTDIR)' BINDIR='$(BINDIR)' MANDIR='$(MANDIR)' DOCDIR='$(DOCDIR)' \
              UNITDIR='$(UNITDIR)' SYSCONFDIR='$(SYSCONFDIR)'

ifneq ($(SANITIZE)$(filter 1,$(FAULTS)),)
install:
	@echo "make install: installs the product only: not with SANITIZE or FAULTS=1" >&2
	@exit 2
else
install: $(B)/payrun
	@$(INSTALL_ENV) sh tools/install.sh install $(B)/payrun
endif

uninstall:
	@$(INSTALL_ENV) sh tools/install.sh uninstall

# ---- lints: cheap, so make check runs them first ----

# Every C file against .clang-format (clang-format 14); names those that differ.
format-check:
	@sh tools/check-format.sh

format:
	@sh tools/check-format.sh -i

# No function in src/ longer than FUNCTION_MAX_LINES lines.
function-length:
	@python3 tools/check-function-length.py --max $(FUNCTION_MAX_LINES)

# Both, reporting both before failing.
lint:
	@status=0; \
	sh tools/check-format.sh || status=1; \
	python3 tools/check-function-length.py --max $(FUNCTION_MAX_LINES) || status=1; \
	exit $$status

# ---- tests ----

# The tree's own runs never read the host's /etc/payrun/payrun.conf:
# PAYRUN_CONFIG set empty means no config file unless --config names one.
check e2e demo bench: export PAYRUN_CONFIG :=

# The end-to-end suites run against $(B)/payrun, and generate their data
# with the plain build's tools (build/tools/).  The fault suite needs fault
# points: it runs against $(B)/payrun when that has them (FAULTS=1), else
# against build-faults/payrun, built for it.  Under the sanitizers the
# memory bounds of the fault suite are scaled by 4 (the plain pass checks
# the real ones).
FAULTS_B  := $(if $(filter 1,$(FAULTS)),$(B),build-faults)
CHECK_ENV := $(if $(SANITIZE),FAULTS_MEM_SCALE=4)

define run_e2e
	@$(if $(filter build,$(B)),,$(MAKE) --no-print-directory B=build SANITIZE= FAULTS= tools)
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) sh tests/e2e/run.sh
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) bash tests/e2e/report.sh
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) bash tests/e2e/install.sh
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) bash tests/e2e/pg.sh
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) bash tests/e2e/rollups.sh
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) bash tests/e2e/partitions.sh
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) bash tests/e2e/shards.sh
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) bash tests/e2e/jobs.sh
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) bash tests/e2e/edges.sh
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) bash tests/e2e/ops.sh
	@PAYRUN='$(CURDIR)/$(B)/payrun' $(CHECK_ENV) bash tests/e2e/inflate.sh
	@$(if $(filter 1,$(FAULTS)),,$(MAKE) --no-print-directory B=build-faults SANITIZE= FAULTS=1 build-faults/payrun)
	@PAYRUN='$(CURDIR)/$(FAULTS_B)/payrun' $(CHECK_ENV) bash tests/e2e/faults.sh
endef

# The product has no fault points and does not need libcsv.
check-product: $(B)/payrun
	@if grep -q PAYRUN_FAULT $(B)/payrun; then \
		echo "check-product: $(B)/payrun has fault points" >&2; exit 1; fi
	@if readelf -d $(B)/payrun | grep -q 'NEEDED.*libcsv'; then \
		echo "check-product: $(B)/payrun needs libcsv" >&2; exit 1; fi
	@echo "check-product: $(B)/payrun has no fault points and does not need libcsv"

# The whole test suite: the lints, the product's check, every suite against
# $(B)'s binary, then (unless this is already the sanitizer pass) the same
# suites under AddressSanitizer and UndefinedBehaviorSanitizer with fault
# points, the CSV suite under ThreadSanitizer, then a short libFuzzer run of
# every target.
check: $(if $(SANITIZE),,lint) $(B)/payrun $(UNIT_BIN) $(TOOL_BIN) \
       $(if $(SANITIZE)$(filter 1,$(FAULTS)),,check-product)
	@sh tests/run-unit.sh $(UNIT_BIN)
	$(run_e2e)
ifndef SANITIZE
	@$(if $(filter build,$(B)),cmp -s $(B)/payrun payrun || cp $(B)/payrun payrun)
	@echo "check: the same suites with SANITIZE=address,undefined"
	@$(MAKE) --no-print-directory check B=build-san SANITIZE=address,undefined FAULTS=1
	@echo "check: the CSV suite with ThreadSanitizer (clang; files are read at once)"
	@$(MAKE) --no-print-directory B=build-tsan CC=clang SANITIZE=thread FAULTS= build-tsan/payrun
	@PAYRUN='$(CURDIR)/build-tsan/payrun' TSAN_OPTIONS=halt_on_error=1 sh tests/e2e/run.sh
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-15} sh tests/fuzz/run.sh
endif

# libFuzzer targets (clang): FUZZ_SECONDS per target (default 15).
fuzz:
	@sh tests/fuzz/run.sh

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

e2e: $(B)/payrun $(TOOL_BIN)
	$(run_e2e)

demo: deps
	$(MAKE) payrun tools
	@sh tools/demo.sh

bench: payrun $(TOOL_BIN)
	@sh tools/bench.sh
	@bash tools/bench_pg.sh
	@bash tools/bench_shards.sh

clean:
	rm -rf build build-* payrun demo-out

-include $(wildcard $(B)/*.d $(B)/tests/*.d $(B)/tools/*.d)
