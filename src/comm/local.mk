# src/comm/: listeners, outbound connect, the opaque relay.
libskua_a_SOURCES += \
	src/comm/comm_connect.c \
	src/comm/comm_connect.h \
	src/comm/record.h \
	src/comm/relay.c \
	src/comm/relay.h
