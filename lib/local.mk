# lib/: general code with no knowledge of proxies; headers in include/.
libskua_a_SOURCES += \
	lib/sk_arena.c \
	lib/sk_common.c \
	lib/sk_log.c \
	lib/sk_str.c \
	lib/sk_time.c \
	include/sk_arena.h \
	include/sk_common.h \
	include/sk_log.h \
	include/sk_str.h \
	include/sk_time.h
