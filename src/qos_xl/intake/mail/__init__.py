"""Mail intake: the messages given to ``qos-xl ingest``, read into senders, dates and the files they bring.

One job per module, in the order a message goes through them:

* ``sources``: files and folders given to ingest -> each message's bytes and format (by content);
* ``headers``: header text decoded (``email.policy.default`` plus the shim for Big5 and raw bytes);
* ``messages``: one message read (MIME or Outlook ``.msg``) -> sender, subject, date, parts;
* ``attachments``: what each part is; spreadsheets, submitted documents, ZIP archives, the rest.

Saving the files into the inbox, the ledger and the validation are ``pipeline.ingest``; the
receipts are ``output.receipts``.
"""
