# src/acl
