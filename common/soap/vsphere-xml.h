/* Small helpers for walking vim25 SOAP documents with libxml2.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_XML_H
#define VSPHERE_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>

/* First element child of NODE whose local name is NAME (any namespace). */
xmlNodePtr vs_xml_child (xmlNodePtr node, const char *name);

/* Next element sibling after NODE with the same local name as NODE. */
xmlNodePtr vs_xml_next_same (xmlNodePtr node);

/* Text of the child element NAME, or NULL.  The caller frees with xmlFree. */
char *vs_xml_child_text (xmlNodePtr node, const char *name);

/* A malloc'd copy of S, a string libxml2 allocated, which is freed;
 * NULL if S is NULL or out of memory.
 */
char *vs_xml_take (char *s);

/* Child element NAME parsed as an integer; returns -1 if absent or bad. */
int vs_xml_child_int64 (xmlNodePtr node, const char *name, int64_t *ret);

/* The xsi:type of NODE without its prefix, or NULL.  Looked up by
 * namespace URI because servers may bind any prefix to it.
 */
char *vs_xml_type (xmlNodePtr node);

/* Parse a SOAP reply, or NULL.  A reply with a DOCTYPE is refused
 * (NULL, *DOCTYPE set) before its entity declarations are read: SOAP
 * forbids DTDs, and nested entities make a small reply huge.
 */
xmlDocPtr vs_xml_read_reply (const char *buf, size_t len, bool *doctype);

/* Escape S for use as XML character data.  Caller frees with free. */
char *vs_xml_escape (const char *s);

#endif /* VSPHERE_XML_H */
