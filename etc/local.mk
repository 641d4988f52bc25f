# etc/: the configuration shipped with skua, installed as
# $(sysconfdir)/skua/skua.conf.default (never over the admin's skua.conf).
skuaconfdir = $(sysconfdir)/skua
dist_skuaconf_DATA = etc/skua.conf.default
