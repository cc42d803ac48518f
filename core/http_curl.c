/*
 * http_curl.c: the curl engine (libcurl multi) for https:// and anything
 * the native HTTP/1.1 client does not speak.  Not built yet: selecting it
 * is an error that says so.
 */
#include "http_engine.h"

int eng_run_curl(const struct eng_options *o, struct eng_result *out, struct err *err);

int eng_run_curl(const struct eng_options *o, struct eng_result *out, struct err *err)
{
	(void)out;
	return err_set(err, ERR_INPUT, "the curl engine (needed for %s) is not available in this build yet",
		       o->plan->url);
}
