/*
 * conf_fields.h (test stub) -- stands in for src/conf/conf_fields.h while
 * that file does not exist, so unit tests can build a struct conf.  It
 * declares no scalar directive fields.  The real header comes first on the
 * include path once it exists.
 */
