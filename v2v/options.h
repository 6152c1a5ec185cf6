/* vsphere-v2v's command line.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef V2V_OPTIONS_H
#define V2V_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct v2v_options {
  bool in_place;                /* route B: vsphere-sync's outputs */
  const char *state_file;       /* --state */
  const char *snapshot;         /* --snapshot: an existing one */
  bool print_xml;               /* --print-xml: the XML only */
  int nbd_port;                 /* --print-xml without --state */
  bool quiet;
  bool verbose;
  char **params;                /* the plugin parameters */
  size_t n_params;
  char **v2v_args;              /* after the second "--" */
  size_t n_v2v_args;
};

#endif /* V2V_OPTIONS_H */
