/*
 * stamp.c: the context of an ingested run (see ingest_stamp in ingest.h).
 * Apart from ingest.c because it reads git, CI and machine facts, which the
 * format parsers (and their fuzz targets) do not need.
 */
#include "ingest.h"

#include <stdlib.h>

#include "../context.h"
#include "../util.h"

int ingest_stamp(struct rundoc *rd, enum ingest_format used, const char *suite, const char *project,
		 const char *repo_dir, struct errlist *notices, struct err *err)
{
	int rc;

	free(rd->suite);
	rd->suite = xstrdup(suite ? suite : ingest_format_name(used));
	if (project && !rd->project)
		rd->project = xstrdup(project);
	if ((rc = context_stamp(rd, repo_dir, notices, err)) < 0)
		return rc;
	if (!rd->project) {
		/* No remote: the repository folder's name (the store needs a project). */
		char *abs = realpath(repo_dir ? repo_dir : ".", NULL);

		rd->project = context_project_name(rd->git.remote && *rd->git.remote ? rd->git.remote : abs,
						   "default");
		free(abs);
	}
	if (!rd->finished_at) {
		char now[40];

		time_rfc3339(now, sizeof(now));
		rd->finished_at = xstrdup(now);
	}
	if (!rd->tags)
		rd->tags = cJSON_CreateObject();
	if (!cJSON_HasObjectItem(rd->tags, "ingested_from"))
		cJSON_AddStringToObject(rd->tags, "ingested_from", ingest_format_name(used));
	return 0;
}
