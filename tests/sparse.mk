# Sparse VMDK decoders (common/vmdk/vmdk-sparse.c and the format files):
# CUnit tests on synthetic images, and byte-for-byte comparison with
# qemu-img on chains of real and synthesized extents.
# Included from tests/Makefile.am.
#
# SPDX-License-Identifier: BSD-3-Clause

check_PROGRAMS += sparse-cat sparse-mkimage
TESTS += test-sparse-oracle.sh
if HAVE_CUNIT
check_PROGRAMS += test-sparse
TESTS += test-sparse
endif
EXTRA_DIST += test-sparse-oracle.sh sparse.mk

SPARSE_CPPFLAGS = $(VMDK_CPPFLAGS) $(SHIM_CPPFLAGS)
SPARSE_CFLAGS = $(WARNINGS_CFLAGS) $(NBDKIT_CFLAGS)
SPARSE_LDADD = $(VMDK_LIB) $(SHIM_LIB)

test_sparse_SOURCES = test-sparse.c sparse-image.c sparse-image.h
test_sparse_CPPFLAGS = $(SPARSE_CPPFLAGS)
test_sparse_CFLAGS = $(SPARSE_CFLAGS) $(CUNIT_CFLAGS)
test_sparse_LDADD = $(SPARSE_LDADD) $(CUNIT_LIBS)

sparse_cat_SOURCES = sparse-cat.c
sparse_cat_CPPFLAGS = $(SPARSE_CPPFLAGS)
sparse_cat_CFLAGS = $(SPARSE_CFLAGS)
sparse_cat_LDADD = $(SPARSE_LDADD)

sparse_mkimage_SOURCES = sparse-mkimage.c sparse-image.c sparse-image.h
sparse_mkimage_CPPFLAGS = $(UTILS_CPPFLAGS)
sparse_mkimage_CFLAGS = $(WARNINGS_CFLAGS)
