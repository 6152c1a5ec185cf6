/* Helpers for vim25 SOAP documents (vsphere-xml.h).  Elements are
 * matched by local name, whatever prefix the server bound.  Replies are
 * parsed with no network access, and a reply with a DOCTYPE is stopped
 * by a SAX callback at the DOCTYPE itself, before any entity is
 * declared, let alone expanded.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <libxml/parser.h>

#include "number.h"
#include "vsphere-xml.h"

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

static int
is_named (xmlNodePtr n, const xmlChar *name)
{
  return n->type == XML_ELEMENT_NODE && xmlStrcmp (n->name, name) == 0;
}

xmlNodePtr
vs_xml_child (xmlNodePtr node, const char *name)
{
  xmlNodePtr c;

  if (!node)
    return NULL;
  for (c = node->children; c; c = c->next)
    if (is_named (c, BAD_CAST name))
      return c;
  return NULL;
}

xmlNodePtr
vs_xml_next_same (xmlNodePtr node)
{
  xmlNodePtr c;

  for (c = node->next; c; c = c->next)
    if (is_named (c, node->name))
      return c;
  return NULL;
}

char *
vs_xml_child_text (xmlNodePtr node, const char *name)
{
  xmlNodePtr c = vs_xml_child (node, name);

  return c ? (char *) xmlNodeGetContent (c) : NULL;
}

int
vs_xml_child_int64 (xmlNodePtr node, const char *name, int64_t *ret)
{
  char *s = vs_xml_child_text (node, name);
  int r;

  if (!s)
    return -1;
  r = vs_parse_int64 (s, INT64_MIN, INT64_MAX, ret);
  xmlFree (s);
  return r;
}

char *
vs_xml_type (xmlNodePtr node)
{
  char *t = (char *) xmlGetNsProp (node, BAD_CAST "type", BAD_CAST XSI_NS);
  char *colon;

  if (t && (colon = strchr (t, ':')) != NULL)
    memmove (t, colon + 1, strlen (colon + 1) + 1);
  return t;
}

char *
vs_xml_escape (const char *s)
{
  xmlChar *e = xmlEncodeSpecialChars (NULL, BAD_CAST s);
  char *r;

  if (!e)
    return NULL;
  r = strdup ((char *) e);
  xmlFree (e);
  return r;
}

/* SAX callback at a DOCTYPE, called before its internal subset is
 * read: no entity has been declared or expanded yet.
 */
static void
refuse_doctype (void *ctx, const xmlChar *name, const xmlChar *external_id,
                const xmlChar *system_id)
{
  xmlParserCtxtPtr ctxt = ctx;
  bool *doctype = ctxt->_private;

  *doctype = true;
  xmlStopParser (ctxt);
}

xmlDocPtr
vs_xml_read_reply (const char *buf, size_t len, bool *doctype)
{
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt ();
  xmlDocPtr doc;

  *doctype = false;
  if (!ctxt)
    return NULL;
  ctxt->sax->internalSubset = refuse_doctype;
  ctxt->_private = doctype;
  doc = xmlCtxtReadMemory (ctxt, buf, len, "soap.xml", NULL,
                           XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  if (*doctype) {
    xmlFreeDoc (doc);
    doc = NULL;
  }
  xmlFreeParserCtxt (ctxt);
  return doc;
}

char *
vs_xml_take (char *s)
{
  char *r = s ? strdup (s) : NULL;

  xmlFree (s);
  return r;
}
