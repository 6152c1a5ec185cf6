/* The vSphere API session (vsphere-soap.h): SOAP envelopes POSTed to
 * /sdk on one curl handle, carrying the cookie of the last Login.  One
 * mutex, s->lock, guards the handle, the cookie and its generation:
 * calls from several threads take turns, and a rejected cookie is
 * renewed by one login however many threads saw it fail.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>

#include <nbdkit-plugin.h>

#include "vsphere-soap.h"
#include "debug-flags.h"
#include "pause.h"
#include "vsphere-xml.h"
#include "vsphere-secret.h"

/* Far above any answer this plugin asks for (a device list, one page
 * of VM names); a bigger one is a broken or hostile server.
 */
#define SOAP_MAX_RESPONSE_MIB 64
#define SOAP_MAX_RESPONSE (SOAP_MAX_RESPONSE_MIB * 1024 * 1024)
#define COOKIE_NAME "vmware_soap_session"

struct vs_session {
  const struct vs_server *srv;
  struct vs_service svc;
  char *url;

  pthread_mutex_t lock;         /* guards all below */
  CURL *curl;
  struct vs_tls_peer peer;
  char errbuf[CURL_ERROR_SIZE];
  char *cookie;                 /* "vmware_soap_session=..." */
  unsigned generation;          /* bumped at every login */
  char *new_cookie;             /* from the last response's headers */
};

struct buffer {
  char *data;
  size_t len, cap;              /* cap: bytes allocated, for len + NUL */
  bool too_large;               /* write_cb refused more than the cap */
};

static size_t
write_cb (char *ptr, size_t size, size_t nmemb, void *opaque)
{
  struct buffer *b = opaque;
  size_t n = size * nmemb;
  char *p;

  if (b->len + n > SOAP_MAX_RESPONSE) {
    b->too_large = true;
    return 0;
  }
  /* Grow by doubling, so that a large answer costs linear time. */
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 16384;

    while (cap < b->len + n + 1)
      cap *= 2;
    p = realloc (b->data, cap);
    if (!p)
      return 0;
    b->data = p;
    b->cap = cap;
  }
  memcpy (b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

/* Keep the session cookie from a Set-Cookie header. */
static size_t
header_cb (char *ptr, size_t size, size_t nmemb, void *opaque)
{
  struct vs_session *s = opaque;
  size_t n = size * nmemb;
  const char *prefix = "set-cookie:";
  size_t plen = strlen (prefix);
  const char *p, *end;

  if (n <= plen || strncasecmp (ptr, prefix, plen) != 0)
    return n;
  for (p = ptr + plen; p < ptr + n && (*p == ' ' || *p == '\t'); p++)
    ;
  if ((size_t) (ptr + n - p) <= strlen (COOKIE_NAME "=") ||
      strncmp (p, COOKIE_NAME "=", strlen (COOKIE_NAME "=")) != 0)
    return n;
  for (end = p; end < ptr + n && *end != ';' && *end != '\r' && *end != '\n';
       end++)
    ;
  vs_free_secret (s->new_cookie);
  s->new_cookie = strndup (p, end - p);
  return n;
}

void
vs_fault_free (struct vs_fault *f)
{
  free (f->type);
  free (f->message);
  f->type = f->message = NULL;
}

/* A program that stops abandons its calls in flight: curl calls this
 * about once a second even while the server is silent.  In nbdkit
 * nothing is abandoned, so that its shutdown still logs out.
 */
static int
progress_cb (void *opaque, curl_off_t dltotal, curl_off_t dlnow,
             curl_off_t ultotal, curl_off_t ulnow)
{
  return vs_pause_stopped ();
}

static xmlNodePtr
body_child (xmlDocPtr doc)
{
  xmlNodePtr n = vs_xml_child (xmlDocGetRootElement (doc), "Body");

  for (n = n ? n->children : NULL; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE)
      return n;
  return NULL;
}

xmlNodePtr
vs_soap_result (xmlDocPtr doc)
{
  return body_child (doc);
}

/* Fill F from a <Fault> element. */
static void
parse_fault (xmlNodePtr fault, struct vs_fault *f)
{
  xmlNodePtr detail = vs_xml_child (fault, "detail");
  xmlNodePtr d;
  char *type = NULL, *msg;

  for (d = detail ? detail->children : NULL; d; d = d->next)
    if (d->type == XML_ELEMENT_NODE)
      break;
  if (d) {
    type = vs_xml_type (d);
    if (!type) {
      /* <NotAuthenticatedFault> without xsi:type */
      size_t len = strlen ((char *) d->name);
      type = strdup ((char *) d->name);
      if (type && len > 5 && strcmp (type + len - 5, "Fault") == 0)
        type[len - 5] = '\0';
    }
  }
  msg = vs_xml_child_text (fault, "faultstring");
  f->type = strdup (type ? type : "UnknownFault");
  f->message = strdup (msg ? msg : "");
  if (type)
    xmlFree (type);
  if (msg)
    xmlFree (msg);
}

static char *
build_envelope (const char *method, const char *this_type,
                const char *this_ref, const char *args)
{
  char *ref = vs_xml_escape (this_ref);
  char *env = NULL;

  if (ref &&
      asprintf (&env,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                "<soapenv:Envelope"
                " xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\""
                " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
                "<soapenv:Body><%s xmlns=\"urn:vim25\">"
                "<_this type=\"%s\">%s</_this>%s</%s>"
                "</soapenv:Body></soapenv:Envelope>",
                method, this_type, ref, args, method) == -1)
    env = NULL;
  free (ref);
  return env;
}

/* One POST to /sdk.  Caller holds s->lock.  Returns the parsed reply
 * or NULL; *FAULT_OUT is set (type non-NULL) when the reply is a fault.
 */
static xmlDocPtr
post (struct vs_session *s, const char *method, const char *envelope,
      struct vs_fault *fault_out)
{
  struct buffer b = { NULL, 0, 0, false };
  struct curl_slist *hdrs = NULL;
  char action[128];
  long status = 0;
  CURLcode r;
  xmlDocPtr doc = NULL;
  xmlNodePtr body;
  bool doctype;

  snprintf (action, sizeof action, "SOAPAction: urn:vim25%s%s",
            s->svc.api_version ? "/" : "",
            s->svc.api_version ? s->svc.api_version : "");
  hdrs = curl_slist_append (hdrs, "Content-Type: text/xml; charset=utf-8");
  hdrs = curl_slist_append (hdrs, action);
  if (!hdrs) {
    nbdkit_error ("curl_slist_append: out of memory");
    return NULL;
  }
  curl_easy_setopt (s->curl, CURLOPT_URL, s->url);
  curl_easy_setopt (s->curl, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt (s->curl, CURLOPT_POSTFIELDS, envelope);
  curl_easy_setopt (s->curl, CURLOPT_COOKIE, s->cookie);
  curl_easy_setopt (s->curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (s->curl, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt (s->curl, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (s->curl, CURLOPT_HEADERDATA, s);
  curl_easy_setopt (s->curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
  curl_easy_setopt (s->curl, CURLOPT_NOPROGRESS, 0L);
  s->errbuf[0] = '\0';
  r = curl_easy_perform (s->curl);
  curl_slist_free_all (hdrs);
  curl_easy_setopt (s->curl, CURLOPT_POSTFIELDS, NULL);

  /* The program says why it stops; this is no error of its own. */
  if (r == CURLE_ABORTED_BY_CALLBACK) {
    nbdkit_debug ("%s: %s: abandoned: stopping", s->srv->server, method);
    goto out;
  }
  if (r == CURLE_WRITE_ERROR && b.too_large) {
    nbdkit_error ("%s: %s: response too large: the server sent more than "
                  "%d MiB, the most this plugin accepts; refusing it",
                  s->srv->server, method, SOAP_MAX_RESPONSE_MIB);
    goto out;
  }
  if (r != CURLE_OK) {
    vs_tls_report (r, s->errbuf, &s->peer, method,
                   s->srv->server);
    goto out;
  }
  curl_easy_getinfo (s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (vs_debug_soap)
    nbdkit_debug ("soap: %s: HTTP %ld, %zu bytes", method, status, b.len);
  if (status == 502 || status == 503 || status == 504) {
    nbdkit_error ("%s: %s: HTTP %ld: %s is not answering (starting, "
                  "restarting or overloaded)", s->srv->server, method,
                  status, vs_session_product (s));
    goto out;
  }
  if (status != 200 && status != 500) {
    nbdkit_error ("%s: %s: unexpected HTTP status %ld from %s "
                  "(is this a vCenter or ESXi server?)",
                  s->srv->server, method, status, s->url);
    goto out;
  }
  doc = b.data ? vs_xml_read_reply (b.data, b.len, &doctype) : NULL;
  if (b.data && doctype) {
    nbdkit_error ("%s: %s: the reply carries a DOCTYPE, which SOAP forbids; "
                  "refusing it", s->srv->server, method);
    goto out;
  }
  body = doc ? body_child (doc) : NULL;
  if (!body) {
    nbdkit_error ("%s: %s: the reply is not a SOAP envelope (HTTP %ld)",
                  s->srv->server, method, status);
    goto fail;
  }
  if (xmlStrcmp (body->name, BAD_CAST "Fault") == 0) {
    parse_fault (body, fault_out);
    goto fail;
  }
  goto out;

 fail:
  xmlFreeDoc (doc);
  doc = NULL;
 out:
  free (b.data);
  return doc;
}

static int
login_locked (struct vs_session *s)
{
  char *user = vs_xml_escape (s->srv->user);
  char *pass = vs_xml_escape (s->srv->password);
  char *args = NULL, *env = NULL;
  struct vs_fault f = { NULL, NULL };
  xmlDocPtr doc = NULL;
  int ret = -1;

  if (!user || !pass ||
      asprintf (&args, "<userName>%s</userName><password>%s</password>",
                user, pass) == -1) {
    nbdkit_error ("login: out of memory");
    args = NULL;
    goto out;
  }
  env = build_envelope ("Login", "SessionManager", s->svc.session_manager,
                        args);
  vs_free_secret (s->new_cookie);
  s->new_cookie = NULL;
  vs_free_secret (s->cookie);
  s->cookie = NULL;
  if (env)
    doc = post (s, "Login", env, &f);
  if (f.type) {
    /* vCenter's users are in an SSO domain, which people leave out. */
    if (strcmp (f.type, "InvalidLogin") == 0 && !s->svc.esxi &&
        !strpbrk (s->srv->user, "@\\"))
      nbdkit_error ("%s: login as %s failed: wrong user name or password; "
                    "vCenter's users are named with their SSO domain, such "
                    "as user=%s@vsphere.local", s->srv->server,
                    s->srv->user, s->srv->user);
    else if (strcmp (f.type, "InvalidLogin") == 0)
      nbdkit_error ("%s: login as %s failed: wrong user name or password",
                    s->srv->server, s->srv->user);
    else
      nbdkit_error ("%s: login as %s failed: %s: %s",
                    s->srv->server, s->srv->user, f.type, f.message);
    goto out;
  }
  if (!doc)
    goto out;
  if (!s->new_cookie) {
    nbdkit_error ("%s: login succeeded but the server sent no %s cookie",
                  s->srv->server, COOKIE_NAME);
    goto out;
  }
  s->cookie = s->new_cookie;
  s->new_cookie = NULL;
  s->generation++;
  nbdkit_debug ("logged in to %s as %s", s->srv->server, s->srv->user);
  ret = 0;

 out:
  vs_fault_free (&f);
  xmlFreeDoc (doc);
  /* The arguments hold the password: wipe before freeing. */
  vs_free_secret (args);
  vs_free_secret (env);
  free (user);
  vs_free_secret (pass);
  return ret;
}

static xmlDocPtr
call_locked (struct vs_session *s, const char *method, const char *this_type,
             const char *this_ref, const char *args, struct vs_fault *fault)
{
  char *env = build_envelope (method, this_type, this_ref, args);
  struct vs_fault f = { NULL, NULL };
  xmlDocPtr doc;

  if (!env) {
    nbdkit_error ("%s: out of memory", method);
    return NULL;
  }
  doc = post (s, method, env, &f);
  /* Also when an earlier login failed and left no cookie, as while
   * vCenter restarts: only a session never opened is not renewed.
   */
  if (f.type && strcmp (f.type, "NotAuthenticated") == 0 &&
      s->generation > 0) {
    nbdkit_debug ("%s: session expired, logging in again", method);
    vs_fault_free (&f);
    if (login_locked (s) == 0)
      doc = post (s, method, env, &f);
  }
  free (env);
  if (f.type) {
    if (fault)
      *fault = f;
    else {
      nbdkit_error ("%s: %s failed: %s: %s",
                    s->srv->server, method, f.type, f.message);
      vs_fault_free (&f);
    }
  }
  return doc;
}

xmlDocPtr
vs_soap_call (struct vs_session *s, const char *method,
              const char *this_type, const char *this_ref,
              const char *args, struct vs_fault *fault)
{
  xmlDocPtr doc;

  pthread_mutex_lock (&s->lock);
  doc = call_locked (s, method, this_type, this_ref, args, fault);
  pthread_mutex_unlock (&s->lock);
  return doc;
}

static int
read_service_content (struct vs_session *s)
{
  xmlDocPtr doc = call_locked (s, "RetrieveServiceContent", "ServiceInstance",
                               "ServiceInstance", "", NULL);
  xmlNodePtr rv = doc ? vs_xml_child (vs_soap_result (doc), "returnval")
    : NULL;
  xmlNodePtr about = vs_xml_child (rv, "about");
  struct vs_service *v = &s->svc;
  char *full_name;

  if (!doc)
    return -1;
  v->root_folder = vs_xml_child_text (rv, "rootFolder");
  v->property_collector = vs_xml_child_text (rv, "propertyCollector");
  v->session_manager = vs_xml_child_text (rv, "sessionManager");
  v->search_index = vs_xml_child_text (rv, "searchIndex");
  v->view_manager = vs_xml_child_text (rv, "viewManager");
  v->api_version = vs_xml_child_text (about, "apiVersion");
  v->api_type = vs_xml_child_text (about, "apiType");
  /* A standalone host differs from vCenter in its inventory (one
   * datacenter, no folders), which messages must tell the user.
   */
  v->esxi = v->api_type && strcmp (v->api_type, "HostAgent") == 0;
  full_name = vs_xml_child_text (about, "fullName");
  nbdkit_debug ("%s is %s (apiType %s, API version %s)%s", s->srv->server,
                full_name ? full_name : "an unnamed server",
                v->api_type ? v->api_type : "unknown",
                v->api_version ? v->api_version : "unknown",
                v->esxi ? ": a standalone ESXi host" : "");
  xmlFree (full_name);
  xmlFreeDoc (doc);
  if (!v->root_folder || !v->property_collector || !v->session_manager ||
      !v->search_index || !v->view_manager) {
    nbdkit_error ("%s: the ServiceContent lacks the managed objects this "
                  "plugin needs (is this a vCenter or ESXi server?)",
                  s->srv->server);
    return -1;
  }
  return 0;
}

static void
free_service (struct vs_service *v)
{
  xmlFree (v->root_folder);
  xmlFree (v->property_collector);
  xmlFree (v->session_manager);
  xmlFree (v->search_index);
  xmlFree (v->view_manager);
  xmlFree (v->api_version);
  xmlFree (v->api_type);
}

struct vs_session *
vs_session_open (const struct vs_server *srv)
{
  struct vs_session *s = calloc (1, sizeof *s);

  if (!s) {
    nbdkit_error ("calloc: out of memory");
    return NULL;
  }
  s->srv = srv;
  pthread_mutex_init (&s->lock, NULL);
  if (asprintf (&s->url, "https://%s/sdk", srv->server) == -1) {
    s->url = NULL;
    nbdkit_error ("asprintf: out of memory");
    goto fail;
  }
  s->curl = vs_curl_new (srv, NULL, &s->peer, s->errbuf);
  if (!s->curl)
    goto fail;
  pthread_mutex_lock (&s->lock);
  if (read_service_content (s) == -1 || login_locked (s) == -1) {
    pthread_mutex_unlock (&s->lock);
    goto fail;
  }
  pthread_mutex_unlock (&s->lock);
  return s;

 fail:
  vs_session_close (s);
  return NULL;
}

void
vs_session_close (struct vs_session *s)
{
  xmlDocPtr doc;

  if (!s)
    return;
  if (s->cookie) {
    /* No retry here: an expired session needs no logout. */
    struct vs_fault f = { NULL, NULL };
    char *env = build_envelope ("Logout", "SessionManager",
                                s->svc.session_manager, "");

    pthread_mutex_lock (&s->lock);
    doc = env ? post (s, "Logout", env, &f) : NULL;
    pthread_mutex_unlock (&s->lock);
    free (env);
    xmlFreeDoc (doc);
    vs_fault_free (&f);
    nbdkit_debug ("logged out of %s", s->srv->server);
  }
  if (s->curl)
    curl_easy_cleanup (s->curl);
  free_service (&s->svc);
  free (s->url);
  vs_free_secret (s->cookie);
  vs_free_secret (s->new_cookie);
  pthread_mutex_destroy (&s->lock);
  free (s);
}

const struct vs_service *
vs_session_service (const struct vs_session *s)
{
  return &s->svc;
}

const char *
vs_session_product (const struct vs_session *s)
{
  return s->svc.esxi ? "the ESXi host" : "vCenter";
}

const struct vs_server *
vs_session_server (const struct vs_session *s)
{
  return s->srv;
}

int
vs_session_cookie (struct vs_session *s, char *buf, size_t len,
                   unsigned *gen)
{
  int ret = 0;

  pthread_mutex_lock (&s->lock);
  if (!s->cookie || strlen (s->cookie) >= len) {
    nbdkit_error ("%s: no usable session cookie", s->srv->server);
    ret = -1;
  }
  else {
    strcpy (buf, s->cookie);
    *gen = s->generation;
  }
  pthread_mutex_unlock (&s->lock);
  return ret;
}

int
vs_session_renew (struct vs_session *s, unsigned gen)
{
  int ret = 0;

  pthread_mutex_lock (&s->lock);
  if (s->generation == gen) {
    nbdkit_debug ("%s: session rejected, logging in again", s->srv->server);
    ret = login_locked (s);
  }
  pthread_mutex_unlock (&s->lock);
  return ret;
}
