// Body of the HTTP request Kratos's courier sends for each SMS (courier.channels sms).
// In dev and tests it goes to the sink (infra/kratos/smtpsink), which stores it as-is;
// a real provider gets its own template in the deployment's configuration.
// ctx: recipient, body, template_type, template_data, message_type.
function(ctx) {
  to: ctx.recipient,
  body: ctx.body,
  template_type: ctx.template_type,
  template_data: ctx.template_data,
}
