/*
 * libwebsockets echo server for bench/compare.sh (Debian's libwebsockets-dev).
 *
 *   cc -O2 -o lws_echo bench/peers/lws_echo.c $(pkg-config --cflags --libs libwebsockets)
 *   ./lws_echo 127.0.0.1:9106
 *
 * Every text and binary message is sent back as it came. Fragments are gathered into one
 * message, complete messages are queued per connection and written one per WRITEABLE callback
 * (the lws idiom: lws buffers what the socket does not take and holds back the next callback until
 * it is written). Defaults otherwise: no extensions, the default rx buffer, lws's own event loop
 * (poll), one service thread.
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct msg {
	struct msg *next;
	unsigned char *buf; /* LWS_PRE bytes of headroom, then the payload */
	size_t len;
	int binary;
};

struct session {
	struct msg *head, *tail;
	unsigned char *rx; /* message being received, with LWS_PRE headroom */
	size_t rx_len, rx_cap;
	int rx_binary;
};

static void free_session(struct session *s)
{
	while (s->head) {
		struct msg *m = s->head;
		s->head = m->next;
		free(m->buf);
		free(m);
	}
	s->tail = NULL;
	free(s->rx);
	s->rx = NULL;
	s->rx_len = s->rx_cap = 0;
}

static int callback_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			 size_t len)
{
	struct session *s = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(s, 0, sizeof(*s));
		break;

	case LWS_CALLBACK_RECEIVE:
		if (lws_is_first_fragment(wsi)) {
			s->rx_len = 0;
			s->rx_binary = lws_frame_is_binary(wsi);
		}
		if (LWS_PRE + s->rx_len + len > s->rx_cap) {
			size_t cap = s->rx_cap ? s->rx_cap : 256;
			while (cap < LWS_PRE + s->rx_len + len)
				cap *= 2;
			unsigned char *grown = realloc(s->rx, cap);
			if (!grown)
				return -1;
			s->rx = grown;
			s->rx_cap = cap;
		}
		memcpy(s->rx + LWS_PRE + s->rx_len, in, len);
		s->rx_len += len;
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
			struct msg *m = malloc(sizeof(*m));
			if (!m)
				return -1;
			m->next = NULL;
			m->buf = s->rx;
			m->len = s->rx_len;
			m->binary = s->rx_binary;
			if (!m->buf) { /* empty message: still needs headroom */
				m->buf = malloc(LWS_PRE);
				if (!m->buf)
					return -1;
			}
			s->rx = NULL;
			s->rx_len = s->rx_cap = 0;
			if (s->tail)
				s->tail->next = m;
			else
				s->head = m;
			s->tail = m;
			lws_callback_on_writable(wsi);
		}
		break;

	case LWS_CALLBACK_SERVER_WRITEABLE: {
		struct msg *m = s->head;
		if (!m)
			break;
		int n = lws_write(wsi, m->buf + LWS_PRE, m->len,
				  m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
		if (n < (int)m->len)
			return -1;
		s->head = m->next;
		if (!s->head)
			s->tail = NULL;
		free(m->buf);
		free(m);
		if (s->head)
			lws_callback_on_writable(wsi);
		break;
	}

	case LWS_CALLBACK_CLOSED:
		free_session(s);
		break;

	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "echo", callback_echo, sizeof(struct session), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:9106";
	char host[64];
	const char *colon = strrchr(addr, ':');
	if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
		fprintf(stderr, "usage: lws_echo HOST:PORT\n");
		return 2;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';

	lws_set_log_level(LLL_ERR, NULL);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.port = atoi(colon + 1);
	info.iface = host;
	info.protocols = protocols; /* the first protocol serves requests without a subprotocol */
	info.options = 0;
	struct lws_context *context = lws_create_context(&info);
	if (!context) {
		fprintf(stderr, "lws_echo: lws_create_context failed\n");
		return 1;
	}
	printf("lws_echo listening on ws://%s (libwebsockets %s)\n", addr, lws_get_library_version());
	fflush(stdout);
	while (lws_service(context, 0) >= 0)
		;
	lws_context_destroy(context);
	return 0;
}
