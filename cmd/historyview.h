/*
 * historyview.h: what `perfgate history` prints (historyview.c): the list
 * of stored series and one series' rows, as a table, CSV or JSON.
 */
#ifndef PERFGATE_CMD_HISTORYVIEW_H
#define PERFGATE_CMD_HISTORYVIEW_H

#include <stdbool.h>

#include "../db/history.h"

enum cmd_history_format { HISTORY_TABLE, HISTORY_CSV, HISTORY_JSON };

/* Every stored series (of project and suite when not NULL).  Returns the exit code. */
int cmd_history_print_list(struct db *db, const char *project, const char *suite,
			   enum cmd_history_format fmt);

/* One series' rows; marks: a column for the stored change points (table only). */
void cmd_history_print_rows(const struct history *h, const char *bench, const char *metric,
			    enum cmd_history_format fmt, bool marks);

#endif
