/*
 * gate.c: `perfgate gate`.  Not built yet: see the open issues.
 */
#include "cmd.h"

int cmd_gate(int argc, char **argv)
{
	static const struct cmd_usage usage = { "gate", "[options]", "not implemented yet", NULL };
	static const struct opt opts[] = { { "placeholder", 0, OPT_FLAG, 0, 0, "unused" } };

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, NULL);
	cmd_error("'gate' is not implemented yet");
	return EXIT_USAGE;
}
