# Copyright (C) ngx_http_authz_module authors
#
# make          build build/ngx_http_authz_module.so and build/authz-mint
# make test     install missing Debian packages, build, run every test
# make demo     build, start nginx with an example gateway, run scenarios
# make run      the demo gateway in the foreground
# make deb      the Debian packages libnginx-mod-http-authz and authz-mint
# make bench    wrk: the module against plain proxying, as ratios
# make bench-callgrind, bench-growth, bench-plot: see docs/performance.md

SHELL      := /bin/bash
NGINX_SRC  ?= /usr/share/nginx/src
NGINX      ?= /usr/sbin/nginx
CC         ?= cc
BUILD      := build
OBJS       := $(CURDIR)/$(BUILD)/objs
SRC        := $(wildcard ngx_http_authz_module/*.c ngx_http_authz_module/*.h)
MODULE     := $(BUILD)/ngx_http_authz_module.so
MINT       := $(BUILD)/authz-mint
PROVE_JOBS ?= 2

.PHONY: all deps module mint test unit demo run bench clean test-asan \
        test-valgrind fuzz deb test-redirects bench-callgrind bench-growth \
        bench-plot bench-deps

all: module mint

deps:
	@sh tools/deps.sh

module: $(MODULE)

mint: $(MINT)

$(OBJS)/Makefile: config debian/changelog
	rm -rf $(BUILD)/nginx-src $(OBJS)
	mkdir -p $(BUILD)
	cp -r $(NGINX_SRC) $(BUILD)/nginx-src
	cd $(BUILD)/nginx-src && . ./conf_flags \
	    && ./configure "$${NGX_CONF_FLAGS[@]}" \
	       --add-dynamic-module=$(CURDIR) --builddir=$(OBJS) \
	       --with-cc-opt="$(AUTHZ_CC_OPT)" --with-ld-opt="$(AUTHZ_LD_OPT)" \
	       > $(CURDIR)/$(BUILD)/configure.log 2>&1 \
	    || { tail -20 $(CURDIR)/$(BUILD)/configure.log; exit 1; }

$(MODULE): $(OBJS)/Makefile $(SRC)
	cd $(BUILD)/nginx-src && $(MAKE) -s -f $(OBJS)/Makefile modules
	@# a new inode: a running nginx keeps its mapping of the old file
	cp $(OBJS)/ngx_http_authz_module.so $(MODULE).tmp
	mv -f $(MODULE).tmp $(MODULE)

$(MINT): keys/authz-mint.c
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -o $@ keys/authz-mint.c \
	    -ljwt -ljansson -lcrypto

test: deps all
	prove -j$(PROVE_JOBS) -r t

unit: deps
	prove t/unit.t

demo: deps all
	sh keys/gen-dev-keys.sh $(MINT)
	perl docs/examples/demo.pl

run: deps all
	sh keys/gen-dev-keys.sh $(MINT)
	perl docs/examples/demo.pl --foreground

# the benchmarks (docs/performance.md); their packages are not make test's

BENCH_PKGS := wrk valgrind gnuplot-nox

bench-deps:
	AUTHZ_EXTRA_PKGS="$(BENCH_PKGS)" sh tools/deps.sh

bench: bench-deps all
	perl bench/bench.pl --csv $(BUILD)/bench.csv

bench-callgrind: bench-deps all
	perl bench/callgrind.pl

# the growth curves into bench/growth.csv, and their picture

bench-growth: bench-deps all
	perl bench/growth.pl --csv bench/growth.csv

bench-plot: bench-deps
	gnuplot -e "csv='bench/growth.csv'; png='docs/performance-growth.png'" \
	    bench/growth.gp

clean:
	rm -rf $(BUILD)

# t/authz_redirect_random.t at length: 20,000 generated servers by
# default, a new seed each run (printed) unless AUTHZ_REDIRECT_SEED is set

test-redirects: deps all
	AUTHZ_REDIRECT_CONFIGS=$${AUTHZ_REDIRECT_CONFIGS:-20000} \
	AUTHZ_REDIRECT_SEED=$${AUTHZ_REDIRECT_SEED:-$$(date +%s)} \
	    prove t/authz_redirect_random.t

# the module built with AddressSanitizer and UBSan, loaded into Debian's
# nginx with the runtimes preloaded; the harness fails a test file on any
# sanitizer report in the error log

ASAN_OBJS := $(CURDIR)/$(BUILD)/asan
ASAN_FLAGS := -fsanitize=address,undefined,float-cast-overflow \
              -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined

$(ASAN_OBJS)/Makefile: config debian/changelog
	rm -rf $(BUILD)/nginx-src-asan $(ASAN_OBJS)
	mkdir -p $(BUILD)
	cp -r $(NGINX_SRC) $(BUILD)/nginx-src-asan
	cd $(BUILD)/nginx-src-asan && . ./conf_flags \
	    && ./configure "$${NGX_CONF_FLAGS[@]}" \
	       --add-dynamic-module=$(CURDIR) --builddir=$(ASAN_OBJS) \
	       --with-cc-opt="$(ASAN_FLAGS)" --with-ld-opt="$(ASAN_FLAGS)" \
	       > $(CURDIR)/$(BUILD)/configure-asan.log 2>&1 \
	    || { tail -20 $(CURDIR)/$(BUILD)/configure-asan.log; exit 1; }

$(BUILD)/asan/ngx_http_authz_module.so: $(ASAN_OBJS)/Makefile $(SRC)
	cd $(BUILD)/nginx-src-asan && $(MAKE) -s -f $(ASAN_OBJS)/Makefile modules

test-asan: deps mint $(BUILD)/asan/ngx_http_authz_module.so
	AUTHZ_MODULE=$(BUILD)/asan/ngx_http_authz_module.so \
	AUTHZ_NGINX=$(CURDIR)/tools/nginx-asan.sh \
	    prove -j$(PROVE_JOBS) -r t

test-valgrind: deps all
	sh tools/test-valgrind.sh

# libFuzzer needs clang and libclang-rt-14-dev
fuzz:
	AUTHZ_EXTRA_PKGS="clang libclang-rt-14-dev" sh tools/deps.sh
	sh t/fuzz/run.sh $(FUZZ_SECONDS)

FUZZ_SECONDS ?= 60


# the Debian source package and the .debs, with dpkg-buildpackage and
# nginx-dev's dh-sequence-nginx, from a copy of the tree in build/deb-src;
# everything lands in build/.  Only the build dependencies of
# debian/control are installed (never make test's list).  The orig
# tarball of the "3.0 (quilt)" source package is that copy without
# debian/, made anew each time.  Files of this version are replaced;
# those of other versions stay in build/ and are listed at the end.

DEB_EXCLUDE := --exclude=./build --exclude=./.git --exclude=./keys/dev

deb:
	sh tools/deps.sh --build-deps
	@set -e; \
	source=$$(dpkg-parsechangelog -S Source); \
	version=$$(dpkg-parsechangelog -S Version | sed 's/^[0-9]*://'); \
	upstream=$${version%-*}; \
	arch=$$(dpkg --print-architecture); \
	stamp=$$(dpkg-parsechangelog -S Timestamp); \
	mkdir -p $(BUILD); \
	rm -rf $(BUILD)/deb-src; \
	rm -f $(BUILD)/*_$${version}_*.deb $(BUILD)/*_$${version}_*.buildinfo \
	    $(BUILD)/*_$${version}_*.changes \
	    $(BUILD)/$${source}_$${version}.dsc \
	    $(BUILD)/$${source}_$${version}.debian.tar.* \
	    $(BUILD)/$${source}_$${upstream}.orig.tar.*; \
	mkdir -p $(BUILD)/deb-src; \
	tar -c $(DEB_EXCLUDE) . | tar -x -C $(BUILD)/deb-src; \
	tar -c -C $(BUILD)/deb-src --exclude=./debian --sort=name \
	    --owner=0 --group=0 --numeric-owner --mtime=@$$stamp \
	    --transform="s,^\.,$$source-$$upstream," . \
	    | gzip -n -9 > $(BUILD)/$${source}_$${upstream}.orig.tar.gz; \
	echo "make deb: $$source $$version ($$arch) in $(BUILD)/deb-src"; \
	(cd $(BUILD)/deb-src && dpkg-buildpackage -us -uc); \
	echo; \
	echo "make deb: built in $(BUILD)/:"; \
	ls -1 $(BUILD)/*_$${version}_*.deb $(BUILD)/$${source}_$${version}.dsc; \
	old=$$(ls -1 $(BUILD)/*.deb | grep -v "_$${version}_" || true); \
	if [ -n "$$old" ]; then \
	    echo "make deb: $(BUILD)/ also holds packages of other versions" \
	         "(not removed):"; \
	    echo "$$old"; \
	fi; \
	echo "make deb: install with"; \
	echo "    apt install ./$(BUILD)/libnginx-mod-http-authz_$${version}_$$arch.deb" \
	     "./$(BUILD)/authz-mint_$${version}_$$arch.deb"
