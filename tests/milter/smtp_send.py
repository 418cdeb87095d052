#!/usr/bin/env python3
"""smtp_send.py -- a real SMTP client for the milter tests and the bench.

Usage: smtp_send.py [-j N] PORT RCPT[,RCPT...] FILE...

Sends each FILE as one message, each in its own SMTP session, to
127.0.0.1:PORT with MAIL FROM:<reporter@sender.test>, N sessions at a
time (default 1).  Prints one line per file, in the order given:
"CODE FILE" where CODE is 250 when the message was accepted, else the
SMTP reply code that refused it (4xx, 5xx) or 0 for a broken session.
Each line is printed and flushed as soon as its session and those of
the files before it are over.
"""
import smtplib
import sys
from concurrent.futures import ThreadPoolExecutor


def send(port, rcpts, path):
    with open(path, 'rb') as f:
        data = f.read()
    try:
        with smtplib.SMTP('127.0.0.1', port, timeout=120) as s:
            refused = s.sendmail('reporter@sender.test', rcpts, data)
            if refused:
                return min(c for c, _ in refused.values())
            return 250
    except smtplib.SMTPResponseException as e:
        return e.smtp_code
    except smtplib.SMTPRecipientsRefused as e:
        return min(c for c, _ in e.recipients.values())
    except (OSError, smtplib.SMTPException):
        return 0


def main():
    args = sys.argv[1:]
    jobs = 1
    if len(args) >= 2 and args[0] == '-j':
        jobs = int(args[1])
        args = args[2:]
    port = int(args[0])
    rcpts = args[1].split(',')
    files = args[2:]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        # map() yields in the order given, each code as soon as it and
        # those before it are known: flushed line by line, so that a
        # reader sees the sessions complete (the fault tests do).
        for code, f in zip(ex.map(lambda f: send(port, rcpts, f), files),
                           files):
            print(code, f, flush=True)


if __name__ == '__main__':
    main()
