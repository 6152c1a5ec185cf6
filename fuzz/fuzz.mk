# libFuzzer targets for the VMDK parsers, built with clang by
# "make fuzz" (not by "make check"); "make fuzz-run FUZZ_SECONDS=N"
# runs each for N seconds.  See fuzz/README.md.  Included from the
# top-level Makefile.am.
#
# SPDX-License-Identifier: BSD-3-Clause

FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Wall -Wextra -Werror -Wno-unused-parameter \
	-I$(top_builddir) -I$(top_srcdir)/common/vmdk -I$(top_srcdir)/common/utils \
	-I$(top_srcdir)/common/nfc -I$(top_srcdir)/common/shim $(NBDKIT_CFLAGS)
FUZZ_TARGETS = fuzz/fuzz-descriptor fuzz/fuzz-hosted fuzz/fuzz-cowd \
	fuzz/fuzz-sesparse fuzz/fuzz-chain fuzz/fuzz-nfc
FUZZ_NFC_SRC = $(top_srcdir)/common/nfc/nfc-wire.c \
	$(top_srcdir)/common/nfc/nfc-read.c
FUZZ_DESCRIPTOR_SRC = $(top_srcdir)/common/vmdk/vmdk-descriptor.c \
	$(top_srcdir)/common/shim/nbdkit-shim.c
FUZZ_SPARSE_SRC = $(FUZZ_DESCRIPTOR_SRC) \
	$(top_srcdir)/common/vmdk/vmdk-sparse.c \
	$(top_srcdir)/common/vmdk/vmdk-hosted.c \
	$(top_srcdir)/common/vmdk/vmdk-cowd.c \
	$(top_srcdir)/common/vmdk/vmdk-sesparse.c
FUZZ_SPARSE_DEPS = $(FUZZ_SPARSE_SRC) $(top_srcdir)/fuzz/fuzz-sparse.c \
	$(top_srcdir)/fuzz/fuzz-input.h \
	$(top_srcdir)/common/vmdk/vmdk-sparse.h \
	$(top_srcdir)/common/vmdk/vmdk-sparse-impl.h

EXTRA_DIST += fuzz/README.md fuzz/fuzz.mk fuzz/fuzz-descriptor.c \
	fuzz/fuzz-sparse.c fuzz/fuzz-chain.c fuzz/fuzz-input.h fuzz/fuzz-nfc.c
CLEANFILES += $(FUZZ_TARGETS)

.PHONY: fuzz fuzz-run

fuzz: $(FUZZ_TARGETS)

fuzz/fuzz-descriptor: $(top_srcdir)/fuzz/fuzz-descriptor.c \
		$(FUZZ_DESCRIPTOR_SRC)
	@$(MKDIR_P) fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(top_srcdir)/fuzz/fuzz-descriptor.c \
		$(FUZZ_DESCRIPTOR_SRC)

fuzz/fuzz-nfc: $(top_srcdir)/fuzz/fuzz-nfc.c $(FUZZ_NFC_SRC) \
		$(top_srcdir)/common/nfc/nfc-wire.h $(top_srcdir)/common/nfc/nfc-read.h \
		$(top_srcdir)/common/nfc/nfc-bytes.h
	@$(MKDIR_P) fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(top_srcdir)/fuzz/fuzz-nfc.c \
		$(FUZZ_NFC_SRC)

fuzz/fuzz-chain: $(FUZZ_SPARSE_DEPS) $(top_srcdir)/fuzz/fuzz-chain.c \
		$(top_srcdir)/common/vmdk/vmdk-chain.c $(top_srcdir)/common/vmdk/vmdk-chain.h
	@$(MKDIR_P) fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(top_srcdir)/fuzz/fuzz-chain.c \
		$(top_srcdir)/common/vmdk/vmdk-chain.c $(FUZZ_SPARSE_SRC)

fuzz/fuzz-hosted: $(FUZZ_SPARSE_DEPS)
	@$(MKDIR_P) fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_TYPE=VMDK_EXTENT_SPARSE -o $@ \
		$(top_srcdir)/fuzz/fuzz-sparse.c $(FUZZ_SPARSE_SRC)

fuzz/fuzz-cowd: $(FUZZ_SPARSE_DEPS)
	@$(MKDIR_P) fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_TYPE=VMDK_EXTENT_VMFSSPARSE -o $@ \
		$(top_srcdir)/fuzz/fuzz-sparse.c $(FUZZ_SPARSE_SRC)

fuzz/fuzz-sesparse: $(FUZZ_SPARSE_DEPS)
	@$(MKDIR_P) fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_TYPE=VMDK_EXTENT_SESPARSE -o $@ \
		$(top_srcdir)/fuzz/fuzz-sparse.c $(FUZZ_SPARSE_SRC)

# Seed each corpus with valid inputs (the test image generator makes
# the sparse ones), then run each target; findings are left in fuzz/
# as crash-* files.
fuzz-run: fuzz
	cd tests && $(MAKE) $(AM_MAKEFLAGS) sparse-mkimage
	@set -e; mk=tests/sparse-mkimage; \
	for t in descriptor hosted cowd sesparse chain nfc; do \
	  $(MKDIR_P) fuzz/corpus-$$t; \
	done; \
	printf '\172\332\000\241\007\000\000\000\054\000\000\000\001\000\000\000' \
	  > fuzz/corpus-nfc/seed; \
	printf 'version=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="vmfsSparse"\nparentFileNameHint="base.vmdk"\nRW 2048 VMFSSPARSE "x-delta.vmdk"\nRDONLY 8 ZERO\nRW 16 FLAT "a b.vmdk" 4\nddb.x = "y"\n' \
	  > fuzz/corpus-descriptor/seed; \
	$$mk hosted fuzz/corpus-hosted/seed 2000 1 0=d:11 1=z 600=d:22 1999=d:33; \
	$$mk cowd fuzz/corpus-cowd/seed 9000 1 0=d:11 1=z 5000=d:22 8999=d:33; \
	$$mk sesparse fuzz/corpus-sesparse/seed 9000 8 0=d:11 1=z 2=u 1124=d:33; \
	cp fuzz/corpus-hosted/seed fuzz/corpus-chain/hosted; \
	cp fuzz/corpus-descriptor/seed fuzz/corpus-chain/descriptor; \
	for t in descriptor hosted cowd sesparse chain nfc; do \
	  echo "fuzz-$$t: $(FUZZ_SECONDS) seconds"; \
	  (cd fuzz && ./fuzz-$$t -max_total_time=$(FUZZ_SECONDS) \
	     -max_len=65536 -print_final_stats=1 corpus-$$t) || exit 1; \
	done
