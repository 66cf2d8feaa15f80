"""Mail intake (``qos-xl ingest``): the spreadsheets and submitted documents that e-mails bring,
saved into the inbox with provenance, a ledger row and a receipt per message.

One job per module, in the order a message goes through them:

* ``sources``: files and folders given to ingest -> each message's bytes and format (by content);
* ``headers``: header text decoded (``email.policy.default`` plus the shim for Big5 and raw bytes);
* ``messages``: one message read (MIME or Outlook ``.msg``) -> sender, subject, date, parts;
* ``attachments``: what each part is; spreadsheets, submitted documents, ZIP archives, the rest;
* ``ingest``: saving, the ledger, validation, receipts, and the result objects.
"""

from qos_xl.intake.mail.ingest import (ALREADY, REJECTED, SAVED, UNKNOWN_SENDER, Attachment, IngestResult,
                                       MailMessage, ingest, receipt_path)

__all__ = ["ALREADY", "REJECTED", "SAVED", "UNKNOWN_SENDER", "Attachment", "IngestResult", "MailMessage", "ingest",
           "receipt_path"]
