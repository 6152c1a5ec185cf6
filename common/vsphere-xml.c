#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <errno.h>

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
  char *end;
  long long v;

  if (!s)
    return -1;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno || end == s || *end) {
    xmlFree (s);
    return -1;
  }
  xmlFree (s);
  *ret = v;
  return 0;
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
