/*
 * reason: lookups into the table of session outcomes (see reason.h).
 */
#include <stddef.h>

#include "reason.h"

struct reason_row {
	const char	*word;
	int		 status;
	const char	*proxy_status;
};

static const struct reason_row reason_rows[REASON_COUNT] = {
#define REASON_ROW(name, word, status, ps) { word, status, ps },
	REASON_TABLE(REASON_ROW)
#undef REASON_ROW
};


const char *
reason_word(enum reason r)
{
	if ((unsigned)r >= REASON_COUNT)
		return "invalid";
	return reason_rows[r].word;
}


int
reason_status(enum reason r)
{
	if ((unsigned)r >= REASON_COUNT)
		return 500;
	return reason_rows[r].status;
}


const char *
reason_proxy_status(enum reason r)
{
	if ((unsigned)r >= REASON_COUNT)
		return NULL;
	return reason_rows[r].proxy_status;
}


const char *
reason_status_text(int status)
{
	switch (status) {
	case 200: return "Connection established";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}
