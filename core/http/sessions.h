/*
 * sessions.h: multi-turn chat sessions on the load engine (the "sessions"
 * key of "prompts", docs/load.md): a conversation's turns sent in order,
 * each carrying the history so far with the assistant's actual replies,
 * a think time between a reply and the next turn.
 *
 * It is an engine driver (engine.h): a unit is a session.  Open loop: the
 * schedule's arrivals start sessions (the rate is new sessions per
 * second); closed loop: the concurrency is a number of users, each
 * running one session after another.  A turn's intended send time
 * (t_sched) is the end of the reply before it plus the think time, so a
 * turn that waits for a connection counts as late as any open-loop
 * request; a turn due after the measured window is not sent (the session
 * ends there), and a failed turn ends its session.  A session is measured
 * when it starts inside the measured window, and then all its turns are.
 *
 * Bodies are built when a turn is sent (the history is only known then):
 * the class's body template with "messages" (the history, then the next
 * user message) and "max_tokens".
 */
#ifndef PERFGATE_HTTP_SESSIONS_H
#define PERFGATE_HTTP_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../err.h"
#include "engine.h"

struct http_workload;
struct http_plan;
struct http_sessions;

/* For one step: the workload's classes (prepared), the plan the turns go
 * with, `threads` workers; seeded. */
int http_sessions_open(struct http_sessions **out, const struct http_workload *wl, const struct http_plan *p,
		       long threads, uint64_t seed, struct err *err);
void http_sessions_free(struct http_sessions *s);

/* The driver (o->driver_arg is the struct http_sessions). */
extern const struct http_engine_driver http_sessions_driver;

/* What the step's sessions did, for the run document: started,
 * completed, ended by a failed turn, ended by the window, turns sent. */
cJSON *http_sessions_describe(const struct http_sessions *s);

#endif
