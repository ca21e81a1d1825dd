#!/usr/bin/env bash
# t/order with every third msg_ring batch failing as a full target CQ
# would (-EOVERFLOW, injected through a NOP): per-sender FIFO and
# exactly-once must hold through the retries.
RA_FAULT_MSGRING=3 RA_ITERS=${RA_ITERS:-200000} exec "${top_builddir:-.}/t/order"
