package messages

import "context"

// IdempotencyHeader carries the delivery id on the requests the HTTP SMS
// provider makes. A delivery is sent while its row is locked and recorded
// as delivered when the task's transaction commits; a worker killed between
// the provider's answer and the commit sends it again on restart, with the
// same key, so a gateway that honours the key sends the SMS exactly once.
const IdempotencyHeader = "Idempotency-Key"

type deliveryIDKey struct{}

// withDeliveryID tells providers which delivery they send.
func withDeliveryID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, deliveryIDKey{}, id)
}

// DeliveryIDFrom returns the id of the delivery a provider is sending, or
// "" outside a delivery.
func DeliveryIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(deliveryIDKey{}).(string)
	return id
}
