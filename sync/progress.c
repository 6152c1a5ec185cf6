/* Progress (progress.h): every update measures the plan's counters
 * once into figures, which the bar, the lines and the events all show.
 * The rate is over the last few seconds, from the samples of earlier
 * updates, so that it follows a copy that speeds up or stalls; until a
 * second of samples and the first bytes are known it is shown as
 * unknown, not as zero.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <json-c/json.h>

#include "progress.h"
#include "report.h"
#include "tool-messages.h"

/* The rate is measured over about this many seconds, and known once
 * its samples span at least MIN_SPAN.
 */
#define WINDOW 5.0
#define MIN_SPAN 1.0

/* Seconds between JSON events. */
#define EVENT_INTERVAL 1.0

/* The bar's graph: its widest, and the narrowest worth drawing.  It
 * takes what the terminal has beyond TEXT_ROOM, the width of the words
 * of a large copy with a short label: the words come first, and the
 * graph keeps its width from one drawing to the next.
 */
#define GRAPH_MAX 30
#define GRAPH_MIN 10
#define TEXT_ROOM 72

#define DEFAULT_COLUMNS 80

struct figures {
  double seconds;               /* into the copy */
  uint64_t done, total;         /* bytes copied, to copy */
  double percent;
  double rate;                  /* bytes a second; < 0: not known yet */
  double eta;                   /* seconds; < 0: not known */
  const struct sync_job *disk;  /* the first one unfinished, or NULL */
  bool final;
};

/* The plan's counters at SECONDS. */
static void
count (const struct sync_plan *plan, double seconds, struct figures *f)
{
  size_t i;

  memset (f, 0, sizeof *f);
  f->seconds = seconds;
  for (i = 0; i < plan->n; i++) {
    const struct sync_job *j = &plan->job[i];
    uint64_t done = sync_copy_copied (&j->copy);

    f->done += done;
    f->total += j->copy.to_copy;
    if (!f->disk && done < j->copy.to_copy)
      f->disk = j;
  }
  f->percent = f->done >= f->total ? 100.0 : 100.0 * f->done / f->total;
  f->rate = f->eta = -1;
}

/* Note F's bytes, and measure F's rate and ETA over the window. */
static void
measure (struct sync_progress *p, struct figures *f)
{
  size_t kept = p->n_samples < SYNC_PROGRESS_SAMPLES ? p->n_samples
    : SYNC_PROGRESS_SAMPLES;
  size_t i;
  double span = 0;
  uint64_t from = 0;

  /* The newest sample at least WINDOW old, else the oldest. */
  for (i = kept; i > 0; i--) {
    size_t k = (p->n_samples - i) % SYNC_PROGRESS_SAMPLES;

    if (i == kept || f->seconds - p->sample[k].seconds >= WINDOW) {
      span = f->seconds - p->sample[k].seconds;
      from = p->sample[k].bytes;
    }
  }
  p->sample[p->n_samples % SYNC_PROGRESS_SAMPLES].seconds = f->seconds;
  p->sample[p->n_samples % SYNC_PROGRESS_SAMPLES].bytes = f->done;
  p->n_samples++;
  /* Before its first bytes, a copy has no rate yet: its first read is
   * still in flight.
   */
  if (kept == 0 || span < MIN_SPAN || f->done == 0)
    return;
  f->rate = (f->done - from) / span;
  if (f->done >= f->total)
    f->eta = 0;
  else if (f->rate > 0)
    f->eta = (f->total - f->done) / f->rate;
}

/* S seconds, as a person reads them: to the tenth under 10 s if
 * PRECISE (a time taken, not an estimate).
 */
static const char *
duration (double s, bool precise, char *buf, size_t len)
{
  unsigned long whole = s + 0.5;

  if (precise && s < 10)
    snprintf (buf, len, "%.1f s", s);
  else if (whole < 60)
    snprintf (buf, len, "%lu s", whole);
  else if (whole < 3600)
    snprintf (buf, len, "%lum%02lus", whole / 60, whole % 60);
  else
    snprintf (buf, len, "%luh%02lum", whole / 3600, whole % 3600 / 60);
  return buf;
}

/* F in words, as the bar and the lines show it:
 *   9.0 MiB of 20.0 MiB (45%), 2.1 MiB/s, ETA 5 s, disk 1 "Hard disk 2"
 *   20.0 MiB of 20.0 MiB (100%) in 4.6 s, 4.3 MiB/s
 * The disk's label only if LABEL.
 */
static void
describe (const struct figures *f, bool label, char *buf, size_t len)
{
  char done[32], total[32], rate[32], when[32];
  int n;

  n = snprintf (buf, len, "%s of %s (%u%%)",
                sync_report_bytes (f->done, done, sizeof done),
                sync_report_bytes (f->total, total, sizeof total),
                (unsigned) f->percent);
  if (f->rate >= 0)
    snprintf (rate, sizeof rate, "%s/s",
              sync_report_bytes ((uint64_t) f->rate, when, sizeof when));
  else
    strcpy (rate, "- B/s");
  if (f->final)
    n += snprintf (buf + n, len - n, " in %s",
                   duration (f->seconds, true, when, sizeof when));
  else
    n += snprintf (buf + n, len - n, ", %s, ETA %s", rate, f->eta < 0 ? "-"
                   : duration (f->eta, false, when, sizeof when));
  if (f->final && f->done > 0)
    snprintf (buf + n, len - n, ", %s", rate);
  else if (!f->final && f->disk)
    snprintf (buf + n, len - n, ", disk %zu%s%s%s", f->disk->index,
              label ? " \"" : "",
              label && f->disk->disk->label ? f->disk->disk->label : "",
              label ? "\"" : "");
}

static unsigned
terminal_columns (void)
{
  struct winsize ws;

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_col == 0)
    return DEFAULT_COLUMNS;
  return ws.ws_col;
}

/* F as one line that fits the terminal: a graph of the percentage if
 * there is room, then F in words, without the disk's label if they are
 * too wide, cut (between characters) if they still are.  The last
 * column stays empty: some terminals wrap on reaching it.
 */
static void
draw_bar (const struct figures *f)
{
  size_t width = terminal_columns () - 1;
  size_t graph = width > TEXT_ROOM + 3 ? width - TEXT_ROOM - 3 : 0;
  char text[512], line[1024];
  size_t filled, n = 0;

  if (graph > GRAPH_MAX)
    graph = GRAPH_MAX;
  if (graph >= GRAPH_MIN) {
    filled = graph * f->percent / 100;
    line[n++] = '[';
    memset (line + n, '#', filled);
    memset (line + n + filled, '.', graph - filled);
    n += graph;
    line[n++] = ']';
    line[n++] = ' ';
  }
  describe (f, true, text, sizeof text);
  if (n + strlen (text) > width)
    describe (f, false, text, sizeof text);
  snprintf (line + n, sizeof line - n, "%s", text);
  if (width < sizeof line && strlen (line) > width) {
    n = width;
    while (n > 0 && (line[n] & 0xc0) == 0x80)   /* inside a UTF-8 character */
      n--;
    line[n] = '\0';
  }
  tool_status (line);
}

/* F as a JSON event on P's descriptor; EVENT is "progress" or "end"
 * (then RESULT is "ok" or "failed").
 */
static void
send_event (struct sync_progress *p, const struct figures *f,
            const char *event, const char *result)
{
  json_object *e = json_object_new_object ();
  json_object *disk = NULL;
  const char *text;
  char *line;
  size_t len, off;
  ssize_t r;

  json_object_object_add (e, "event", json_object_new_string (event));
  if (result)
    json_object_object_add (e, "result", json_object_new_string (result));
  json_object_object_add (e, "seconds", sync_report_json_number (f->seconds));
  json_object_object_add (e, "bytes_copied", json_object_new_int64 (f->done));
  json_object_object_add (e, "bytes_to_copy",
                          json_object_new_int64 (f->total));
  json_object_object_add (e, "percent", sync_report_json_number (f->percent));
  json_object_object_add (e, "rate", f->rate < 0 ? NULL
                          : json_object_new_int64 (f->rate));
  json_object_object_add (e, "eta", f->eta < 0 ? NULL
                          : sync_report_json_number (f->eta));
  if (f->disk) {
    disk = json_object_new_object ();
    json_object_object_add (disk, "index",
                            json_object_new_int64 (f->disk->index));
    json_object_object_add (disk, "key",
                            json_object_new_int (f->disk->disk->key));
    json_object_object_add (disk, "label", f->disk->disk->label
                            ? json_object_new_string (f->disk->disk->label)
                            : NULL);
  }
  json_object_object_add (e, "disk", disk);
  text = json_object_to_json_string_ext (e, JSON_C_TO_STRING_PLAIN |
                                         JSON_C_TO_STRING_NOSLASHESCAPE);
  /* One write for the line and its newline, so that a reader of a
   * pipe never sees half an event.
   */
  if (asprintf (&line, "%s\n", text) == -1)
    line = NULL;
  len = line ? strlen (line) : 0;
  for (off = 0; off < len; off += r) {
    r = write (p->fd, line + off, len - off);
    if (r == -1 && errno == EINTR)
      r = 0;
    else if (r == -1) {
      tool_warning ("--progress-fd %d: %m: no more progress events are "
                    "written", p->fd);
      p->fd = -1;
      break;
    }
  }
  free (line);
  json_object_put (e);
}

static void
show (struct sync_progress *p, const struct figures *f)
{
  char text[512];

  if (p->bar)
    draw_bar (f);
  else if (p->line_interval && f->seconds >= p->next_line) {
    describe (f, true, text, sizeof text);
    tool_info ("%s", text);
    p->next_line = f->seconds + p->line_interval;
  }
  if (p->fd >= 0 && f->seconds >= p->next_event) {
    send_event (p, f, "progress", NULL);
    p->next_event = f->seconds + EVENT_INTERVAL;
  }
}

void
sync_progress_start (struct sync_progress *p, const struct sync_options *o,
                     const struct sync_plan *plan)
{
  const char *term = getenv ("TERM");
  bool shown = o->progress && !o->quiet;

  memset (p, 0, sizeof *p);
  /* A dumb terminal (an editor's shell buffer) cannot redraw a line. */
  p->bar = shown && isatty (STDERR_FILENO) &&
    !(term && strcmp (term, "dumb") == 0);
  if (shown && !p->bar)
    p->line_interval = o->progress_interval ? o->progress_interval
      : SYNC_PROGRESS_INTERVAL;
  p->next_line = p->line_interval;
  p->fd = o->progress_fd;
  sync_progress_update (p, plan, 0);
}

void
sync_progress_update (struct sync_progress *p, const struct sync_plan *plan,
                      double seconds)
{
  struct figures f;

  if (!p->bar && !p->line_interval && p->fd < 0)
    return;
  count (plan, seconds, &f);
  measure (p, &f);
  show (p, &f);
}

void
sync_progress_end (struct sync_progress *p, const struct sync_plan *plan,
                   double seconds, bool ok)
{
  struct figures f;
  char text[512];

  count (plan, seconds, &f);
  f.final = true;
  f.rate = seconds > 0 ? f.done / seconds : -1;
  f.eta = ok ? 0 : -1;
  if (p->bar) {
    draw_bar (&f);
    tool_status_end ();
  }
  else if (p->line_interval) {
    describe (&f, true, text, sizeof text);
    tool_info ("%s", text);
  }
  if (p->fd >= 0)
    send_event (p, &f, "end", ok ? "ok" : "failed");
}
