# Net::APOP: log in with the APOP digest of the greeting's timestamp, count the messages, QUIT.
# Usage: ruby apop.rb HOST PORT USER PASSWORD
require "net/pop"
require "json"

host, port, user, password = ARGV
begin
  count = nil
  Net::APOP.start(host, Integer(port), user, password) { |pop| count = pop.n_mails }
  puts JSON.generate({ "ok" => true, "count" => count })
rescue StandardError => e
  puts JSON.generate({ "ok" => false, "error" => e.class.name, "message" => e.message })
end
