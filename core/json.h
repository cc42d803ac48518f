/*
 * json.h: small helpers on cJSON trees shared by the validators (run
 * documents, ingested harness output).
 */
#ifndef PERFGATE_JSON_H
#define PERFGATE_JSON_H

#include <cjson/cJSON.h>

/* "a string", "a number", "an object", ... for messages such as
 * "expected an array, got a string"; "nothing" for NULL. */
const char *json_type_name(const cJSON *j);

#endif
