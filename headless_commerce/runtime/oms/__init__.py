"""Example Order Management System consumer: the other end of the OMS FIFO queue."""
