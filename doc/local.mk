# doc/: manual pages and the directive reference.  skua.conf.documented and
# the DIRECTIVES section of skua.conf(5) are generated from the directive
# table (src/conf/conf_directives.def) by src/conf/conf_doc, into the build
# directory; they are also distributed.
dist_doc_DATA += doc/skua.conf.documented
dist_man5_MANS = doc/skua.conf.5
EXTRA_DIST += doc/skua.conf.5.in
CLEANFILES += doc/skua.conf.documented doc/skua.conf.5

doc/skua.conf.documented: src/conf/conf_doc$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) doc && \
	src/conf/conf_doc$(EXEEXT) text > $@.tmp && mv $@.tmp $@

doc/skua.conf.5: $(srcdir)/doc/skua.conf.5.in src/conf/conf_doc$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) doc && \
	src/conf/conf_doc$(EXEEXT) man $(srcdir)/doc/skua.conf.5.in \
	    > $@.tmp && mv $@.tmp $@
