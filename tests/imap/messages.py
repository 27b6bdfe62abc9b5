"""Realistic stored messages (CRLF, ending in CRLF) that the message-side tests share."""

from __future__ import annotations


def crlf(text: str) -> bytes:
    """`text` written with LF line ends, as stored: CRLF throughout, UTF-8."""
    return text.replace("\n", "\r\n").encode("utf-8")


PLAIN = crlf(
    """Return-Path: <alice@example.com>
From: Alice Example <alice@example.com>
To: bob@example.org
Subject: Lunch on Friday?
Date: Fri, 21 Nov 1997 09:55:06 -0600
Message-ID: <plain.1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 7bit

Hi Bob,

Lunch on Friday at noon?
-- Alice
"""
)

ALTERNATIVE = crlf(
    """From: "Shop, Inc." <news@shop.test>
To: Carol <carol@example.net>, dave@example.net
Cc: Eve <eve@example.net>
Subject: Your order has shipped
Date: Mon, 3 Feb 2025 23:30:00 +0100
Message-ID: <alt.2@shop.test>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="==alt=="

--==alt==
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Your order =E2=82=AC 12 has shipped.=20
Track it online.
--==alt==
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Your order =E2=82=AC 12 has <b>shipped</b>.</p>
--==alt==--
"""
)

ATTACHMENT = crlf(
    """From: Frank <frank@example.com>
To: Grace <grace@example.com>
Subject: Report attached
Date: Tue, 4 Mar 2025 08:00:00 +0000
Message-ID: <att.3@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=mixed42

This is a multi-part message in MIME format.

--mixed42
Content-Type: text/plain; charset=us-ascii

See the report.

--mixed42
Content-Type: application/pdf; name="report.pdf"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="report.pdf"
Content-ID: <report@example.com>
Content-Description: Quarterly report
Content-Language: en, de

JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==
--mixed42
Content-Type: image/png
Content-Transfer-Encoding: base64
Content-Disposition: inline

iVBORw0KGgo=
--mixed42--
"""
)

NESTED = crlf(
    """From: Heidi <heidi@example.com>
To: Ivan <ivan@example.com>
Subject: Fwd: Your order has shipped
Date: Wed, 5 Mar 2025 12:00:00 -0500
Message-ID: <fwd.4@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain

Forwarding this.

--outer
Content-Type: message/rfc822
Content-Description: forwarded message

From: "Shop, Inc." <news@shop.test>
To: heidi@example.com
Subject: Your order has shipped
Date: Mon, 3 Feb 2025 23:30:00 +0100
Message-ID: <inner.5@shop.test>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

Shipped.
--inner
Content-Type: text/html; charset=utf-8

<p>Shipped.</p>
--inner--

--outer--
"""
)

ENCODED = crlf(
    """From: =?utf-8?q?Jos=C3=A9_Garc=C3=ADa?= <jose@example.es>
To: undisclosed-recipients:;
Reply-To: Lists <list@example.es>
Subject: Re: [lista] Fwd: =?utf-8?b?Q2Fmw6kgeSB0b3N0YWRhcw==?=
 (fwd)
Date: Thu, 6 Mar 2025 10:15:00 +0100 (CET)
In-Reply-To: <orig@example.es>
Message-ID: <enc.6@example.es>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 con leche.
"""
)

NO_CONTENT_TYPE = crlf(
    """From: old@example.com
Subject: no MIME here
Date: 1 Jan 99 00:00 GMT

Plain old RFC 822 text.
Two lines.
"""
)

HOSTILE = (
    crlf(
        """From: <<@@>>, "unterminated
To: ;;;,,,@
Subject: multipart that never ends
Content-Type: multipart/mixed; boundary="b1"
X-Garbage: \x7f\x01

--b1
Content-Type: multipart/related

no boundary here
--b1
Content-Type: message/rfc822

Subject: truncated inner
--b1
Content-Type: text/plain; charset="
Content-Transfer-Encoding: x-uuencode

begin 644 x
"""
    )
    + b"\xff\xfe 8-bit junk\r\n"
)
