/* Unit tests of common/soap that need no server: thumbprints, the
 * refusal of DTDs in replies, server= values and the bound on password
 * files.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "nbdkit-shim.h"
#include "unit-test.h"
#include "vsphere-secret.h"
#include "vsphere-server.h"
#include "vsphere-tls.h"
#include "vsphere-xml.h"

static void
test_thumbprint (void)
{
  struct vs_tls tls = { 0 };

  CU_ASSERT_EQUAL (vs_tls_parse_thumbprint
                   ("AA:bb:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:"
                    "11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e", &tls), 0);
  CU_ASSERT_EQUAL (tls.pin_len, 32);
  CU_ASSERT_EQUAL (tls.pin[0], 0xaa);
  CU_ASSERT_EQUAL (tls.pin[31], 0x1e);
  CU_ASSERT_EQUAL (vs_tls_parse_thumbprint
                   ("0102030405060708090a0b0c0d0e0f1011121314", &tls), 0);
  CU_ASSERT_EQUAL (tls.pin_len, 20);
  CU_ASSERT_EQUAL (vs_tls_parse_thumbprint ("0102", &tls), -1);
  CU_ASSERT_EQUAL (vs_tls_parse_thumbprint ("zz:01", &tls), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "SHA-256"));
}

#define READ_REPLY(text, doctype) \
  vs_xml_read_reply ((text), strlen (text), (doctype))

static void
test_doctype_refused (void)
{
  xmlDocPtr doc;
  bool doctype;

  doc = READ_REPLY ("<a><b>1</b></a>", &doctype);
  CU_ASSERT_PTR_NOT_NULL (doc);
  CU_ASSERT_FALSE (doctype);
  xmlFreeDoc (doc);
  CU_ASSERT_PTR_NULL (READ_REPLY ("<!DOCTYPE a><a/>", &doctype));
  CU_ASSERT_TRUE (doctype);
  CU_ASSERT_PTR_NULL (READ_REPLY ("<?xml version=\"1.0\"?>"
                                  "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
                                  &doctype));
  CU_ASSERT_TRUE (doctype);
}

static void
test_server_values (void)
{
  static const char *const good[] = {
    "vc", "vc.example.com:443", "10.0.0.1:8443", "[::1]", "[2001:db8::1]:443",
  };
  static const char *const bad[] = {
    "", "https://vc/", "vc/sdk", "vc?x", "vc#y", "user@vc", "::1", "[::1",
    "[]", "[::1]x", ":443", "vc:", "vc:0", "vc:65536", "vc:+1",
  };
  struct vs_server srv;
  size_t i;

  vs_server_init (&srv);
  for (i = 0; i < sizeof good / sizeof good[0]; i++) {
    CU_ASSERT_EQUAL (vs_server_config (&srv, "server", good[i]), 1);
    CU_ASSERT_PTR_EQUAL (srv.server, good[i]);
  }
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    nbdkit_shim_clear_error ();
    CU_ASSERT_EQUAL (vs_server_config (&srv, "server", bad[i]), -1);
    CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "write server=HOST"));
  }
}

static int
read_password_file (const char *text, size_t len, char **pw)
{
  char path[] = "/tmp/test-unit-pw.XXXXXX", value[sizeof path + 1];
  int fd = mkstemp (path), r;

  CU_ASSERT_FATAL (fd >= 0);
  CU_ASSERT_FATAL (write (fd, text, len) == (ssize_t) len);
  close (fd);
  snprintf (value, sizeof value, "+%s", path);
  r = vs_read_password (value, pw);
  unlink (path);
  return r;
}

static void
test_password_files (void)
{
  char big[VS_PASSWORD_MAX + 2], *pw;
  int fd;

  /* The first line, without its newline, as nbdkit reads it. */
  CU_ASSERT_EQUAL_FATAL (read_password_file ("pw\n", 3, &pw), 0);
  CU_ASSERT_STRING_EQUAL (pw, "pw");
  free (pw);
  CU_ASSERT_EQUAL_FATAL (read_password_file ("p w\nmore\n", 10, &pw), 0);
  CU_ASSERT_STRING_EQUAL (pw, "p w");
  free (pw);
  CU_ASSERT_EQUAL_FATAL (read_password_file ("", 0, &pw), 0);
  CU_ASSERT_STRING_EQUAL (pw, "");
  free (pw);

  /* VS_PASSWORD_MAX bytes are a password, with a newline or without. */
  memset (big, 'x', sizeof big);
  big[VS_PASSWORD_MAX] = '\n';
  CU_ASSERT_EQUAL_FATAL (read_password_file (big, VS_PASSWORD_MAX, &pw), 0);
  CU_ASSERT_EQUAL (strlen (pw), VS_PASSWORD_MAX);
  free (pw);
  CU_ASSERT_EQUAL_FATAL (read_password_file (big, VS_PASSWORD_MAX + 1, &pw),
                         0);
  CU_ASSERT_EQUAL (strlen (pw), VS_PASSWORD_MAX);
  free (pw);

  /* One more byte is refused, as is a file without end. */
  big[VS_PASSWORD_MAX] = 'x';
  nbdkit_shim_clear_error ();
  CU_ASSERT_EQUAL (read_password_file (big, VS_PASSWORD_MAX + 1, &pw), -1);
  CU_ASSERT_PTR_NULL (pw);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (),
                                  "holds more than 4096 bytes before its "
                                  "first newline"));
  CU_ASSERT_EQUAL (vs_read_password ("+/dev/zero", &pw), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "password file /dev/zero "
                                  "holds more than 4096 bytes"));
  CU_ASSERT_EQUAL (vs_read_password ("+/nonexistent/pw", &pw), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (),
                                  "password file /nonexistent/pw: "));

  /* -FD is read, then closed; stdin, stdout, stderr are refused. */
  fd = open ("/dev/zero", O_RDONLY);
  CU_ASSERT_FATAL (fd > STDERR_FILENO);
  snprintf (big, sizeof big, "-%d", fd);
  CU_ASSERT_EQUAL (vs_read_password (big, &pw), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "password file "
                                  "descriptor"));
  CU_ASSERT (fcntl (fd, F_GETFD) == -1 && errno == EBADF);
  CU_ASSERT_EQUAL (vs_read_password ("-2", &pw), -1);
  CU_ASSERT_EQUAL (vs_read_password ("--3", &pw), -1);
  CU_ASSERT_EQUAL (vs_read_password ("-3x", &pw), -1);
  CU_ASSERT_PTR_NOT_NULL (strstr (nbdkit_shim_last_error (), "expected -FD"));

  /* The password itself. */
  CU_ASSERT_EQUAL (vs_read_password ("-pw", &pw), -1);
  CU_ASSERT_EQUAL_FATAL (vs_read_password ("pw", &pw), 0);
  CU_ASSERT_STRING_EQUAL (pw, "pw");
  free (pw);
}

static const struct unit_test tests[] = {
  { "thumbprint", test_thumbprint },
  { "DOCTYPE refused", test_doctype_refused },
  { "server= values", test_server_values },
  { "password files", test_password_files },
  { NULL }
};

int
main (void)
{
  return unit_test_run ("soap", tests);
}
