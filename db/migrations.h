/*
 * migrations.h: the SQL migrations compiled into the binary, in order.
 * Generated from db/migrations/NNNN_name.sql by tools/embed-migrations.sh.
 */
#ifndef PERFGATE_MIGRATIONS_H
#define PERFGATE_MIGRATIONS_H

struct migration {
	int version;       /* NNNN from the file name */
	const char *name;  /* file name without .sql */
	const char *sql;
};

extern const struct migration migrations[];
extern const unsigned migrations_count;

#endif
