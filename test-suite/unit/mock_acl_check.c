/*
 * mock_acl_check.c -- a stand-in for acl_check() of src/acl/acl.h, for
 * unit tests of modules that only ask an access list for an answer (the
 * access log).  An access list here is one of the three tokens below; the
 * answer is the token's.  It parses and matches nothing.
 */
#include "config.h"

#include "acl/acl.h"

/* Pass these (cast to struct acl_access *) as lists with a fixed answer. */
char mock_acl_allow;
char mock_acl_deny;
char mock_acl_need_dns;

/* Count of calls, so tests can see that a NULL list is never checked. */
unsigned mock_acl_calls;

enum acl_answer
acl_check(const struct acl_access *list, const struct rec *rec,
          const struct acl_dst *dst)
{
    (void)rec;
    (void)dst;
    mock_acl_calls++;
    if ((const void *)list == (const void *)&mock_acl_allow)
        return ACL_ALLOWED;
    if ((const void *)list == (const void *)&mock_acl_need_dns)
        return ACL_NEED_DNS;
    return ACL_DENIED;
}
