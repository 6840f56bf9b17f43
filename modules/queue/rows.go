package queue

// rowsTickets is why staff reads of the queue are tenant-wide
// (modules.TenantWide).
const rowsTickets = "号票属于网点的队列，不归属组织 (tickets belong to a hall's queue, not to an org)"
