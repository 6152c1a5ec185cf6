/* Reading properties of managed objects (RetrievePropertiesEx).
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef VSPHERE_PROPS_H
#define VSPHERE_PROPS_H

#include <libxml/tree.h>

#include "vsphere-soap.h"

/* The properties PATHS (NULL-terminated) of one object.  Returns NULL
 * with an error reported; a path the server could not read is an
 * error naming it.  Free with xmlFreeDoc.
 */
xmlDocPtr vs_props_get (struct vs_session *s, const char *type,
                        const char *ref, const char *const *paths);

/* The <val> of property NAME in a vs_props_get document, or NULL. */
xmlNodePtr vs_props_val (xmlDocPtr doc, const char *name);

/* Text of property NAME, or NULL; free with xmlFree. */
char *vs_props_text (xmlDocPtr doc, const char *name);

#endif /* VSPHERE_PROPS_H */
