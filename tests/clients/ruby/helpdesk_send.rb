# The outgoing side of a helpdesk's email channel: Net::SMTP sends a verification mail, as ActionMailer
# does (start with the HELO name and optional AUTH, send_message with envelope sender and recipients).
# Usage: ruby helpdesk_send.rb HOST PORT FROM TO[,TO...] SUBJECT [USER PASSWORD AUTHTYPE] [--starttls CA_FILE | --tls CA_FILE]
require "net/smtp"
require "openssl"
require "json"

host, port, from, to, subject, *rest = ARGV
tls_mode = nil
ca_file = nil
if (i = rest.index("--starttls") || rest.index("--tls"))
  tls_mode = rest[i]
  ca_file = rest[i + 1]
  rest = rest[0...i]
end
user, password, authtype = rest
result = { "ok" => false, "stage" => "new" }
begin
  smtp = Net::SMTP.new(host, Integer(port))
  smtp.open_timeout = 16
  smtp.read_timeout = Float(ENV.fetch("READ_TIMEOUT", "45"))
  context = nil
  if ca_file
    context = OpenSSL::SSL::SSLContext.new
    context.set_params(verify_mode: OpenSSL::SSL::VERIFY_PEER, ca_file: ca_file)
  end
  if tls_mode == "--starttls"
    smtp.enable_starttls(context)
  elsif tls_mode == "--tls"
    smtp.enable_tls(context)
  else
    smtp.disable_starttls
  end
  body = "From: #{from}\r\nTo: #{to}\r\nSubject: #{subject}\r\nMessage-ID: <#{rand(1 << 60)}@helpdesk.test>\r\n\r\n" \
         "Please confirm this channel.\r\n.leading dot line\r\n"
  result["stage"] = "start"
  smtp.start("helpdesk.test", user, password, (authtype || "plain").to_sym) do |s|
    result["stage"] = "send"
    response = s.send_message(body, from, *to.split(","))
    result["status"] = response.status
    result["message"] = response.string
  end
  result["ok"] = true
rescue StandardError => e
  result["error"] = e.class.name
  result["message"] = e.message
end
puts JSON.generate(result)
