"""A small company knowledge base with known answers."""

REFUND = """Refund policy

Customers on annual plans can request a full refund within 30 days of purchase. After 30 days, refunds for
annual plans are prorated for the unused months. Monthly plans are not refundable, but customers can cancel at any
time and keep access until the end of the billing period. Refunds are paid back to the original payment method
within 5 to 10 business days. Requests go to billing@acme.test with the invoice number."""

Q3_REPORT = """Third quarter financial report

Revenue in the third quarter was $18.7 million, up 12% year over year, driven by the enterprise segment.
Operating margin improved to 21% thanks to lower hosting costs. The company added 140 new customers in the quarter.
Cash at the end of September stood at $42 million. The board approved a hiring plan of 25 engineers for Q4."""

ONBOARDING = """Onboarding handbook

New employees receive their laptop on the first day from the IT team. The IT helpdesk is reachable at extension
4400 or helpdesk@acme.test. Every new hire is paired with a buddy for the first month. Payroll runs on the 25th of
each month, and expense reports are due by the 5th of the following month. The office in Lisbon opens at 8:30."""

SECURITY = """Incident response runbook

The master recovery codes are kept in the hardware vault in the Berlin office. Only the CTO and the head of
security may open the vault. In a security incident, page the on-call engineer through the Falcon pager rotation
and open a ticket with severity SEV1."""

GLOBEX = """Project Hydra plan

Project Hydra launches on 14 March. The Hydra budget is 2.4 million euros and the sponsor is Dana Whitfield.
The refund window for Hydra customers is 90 days."""
