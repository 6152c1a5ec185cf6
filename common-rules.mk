# Included by every Makefile.am: where the headers of common/'s
# libraries are, each with those of the libraries it builds on, the
# libraries themselves, how code for the nbdkit modules is built and
# linked, and the rule that makes a man page of a POD file.
#
# SPDX-License-Identifier: BSD-3-Clause

UTILS_CPPFLAGS = -I$(top_srcdir)/common/utils
# common/vmdk uses utils' header-only number.h and vector.h, and links
# nothing of it.
VMDK_CPPFLAGS = -I$(top_srcdir)/common/vmdk $(UTILS_CPPFLAGS)
NFC_CPPFLAGS = -I$(top_srcdir)/common/nfc $(UTILS_CPPFLAGS)
SOAP_CPPFLAGS = -I$(top_srcdir)/common/soap $(UTILS_CPPFLAGS)
VSPHERE_CPPFLAGS = -I$(top_srcdir)/common/vsphere $(SOAP_CPPFLAGS)
SHIM_CPPFLAGS = -I$(top_srcdir)/common/shim
TOOL_CPPFLAGS = -I$(top_srcdir)/common/tool $(VSPHERE_CPPFLAGS) $(SHIM_CPPFLAGS)
PLUGIN_CPPFLAGS = -I$(top_srcdir)/plugins/vsphere

UTILS_LIB = $(top_builddir)/common/utils/libutils.la
VMDK_LIB = $(top_builddir)/common/vmdk/libvmdk.la
NFC_LIB = $(top_builddir)/common/nfc/libnfc.la
SOAP_LIB = $(top_builddir)/common/soap/libsoap.la
VSPHERE_LIB = $(top_builddir)/common/vsphere/libvsphere.la
TOOL_LIB = $(top_builddir)/common/tool/libvsphere-tool.la
# The stand-in for nbdkit's functions in the tools and the tests, last
# on the link line so that it serves every library before it.
SHIM_LIB = $(top_builddir)/common/shim/libnbdkit-shim.la

# libtool links the whole of a convenience library into a module: each
# function in a section of its own lets the linker drop those that the
# module never calls (tests/test-linkage.sh checks what each keeps).
LIB_CFLAGS = $(WARNINGS_CFLAGS) -fvisibility=hidden \
	-ffunction-sections -fdata-sections $(NBDKIT_CFLAGS)
NBDKIT_MODULE_LINK = -module -avoid-version -shared -Wl,--gc-sections

SUFFIXES = .pod .1
.pod.1:
	$(AM_V_GEN)$(POD2MAN) --section=1 --center="nbdkit-vsphere" \
	  --release="$(PACKAGE_NAME)-$(PACKAGE_VERSION)" \
	  --name=`basename $@ .1` $< > $@.t && mv $@.t $@
