"""Who a protocol login is: passwords, APOP, SASL and the shared failure policy."""
