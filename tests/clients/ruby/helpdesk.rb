# The call sequence of a helpdesk product's POP3 channel driver (scheduled fetch):
# new, open_timeout/read_timeout, [enable_ssl], start, mails (STAT, LIST), per message pop twice then delete,
# finish (QUIT, which must be answered +OK).
# Usage: ruby helpdesk.rb HOST PORT USER PASSWORD [CA_FILE]   (a CA file switches on implicit TLS, VERIFY_PEER)
require "net/pop"
require "openssl"
require "json"

host, port, user, password, ca_file = ARGV
result = { "ok" => false, "fetched" => [], "stage" => "new" }
begin
  pop = Net::POP3.new(host, Integer(port))
  pop.open_timeout = 16
  pop.read_timeout = 45
  pop.enable_ssl({ verify_mode: OpenSSL::SSL::VERIFY_PEER, ca_file: ca_file }) if ca_file
  result["stage"] = "start"
  pop.start(user, password)
  result["stage"] = "mails"
  mails = pop.mails
  result["count"] = mails.size
  mails.first(2000).each do |m|
    result["stage"] = "pop"
    first = m.pop
    second = m.pop
    raise "RETR twice gave different bytes" unless first == second
    result["stage"] = "delete"
    m.delete
    result["fetched"] << { "size" => m.length, "body" => first }
  end
  result["stage"] = "finish"
  pop.finish
  result["ok"] = true
rescue StandardError => e
  result["error"] = e.class.name
  result["message"] = e.message
end
puts JSON.generate(result)
