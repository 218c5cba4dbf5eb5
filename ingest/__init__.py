"""Getting mail in: local files (folder of .eml, Maildir, mbox) and IMAP accounts."""
