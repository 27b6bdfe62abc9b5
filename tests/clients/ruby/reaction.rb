# Fetch and delete everything with short timeouts; print how it ended (for docs/reactions.py).
# Usage: ruby reaction.rb HOST PORT USER PASSWORD
require "net/pop"
require "json"

host, port, user, password = ARGV
result = begin
  pop = Net::POP3.new(host, Integer(port))
  pop.open_timeout = 1
  pop.read_timeout = 1
  pop.start(user, password)
  mails = pop.mails
  mails.each { |m| m.pop; m.delete }
  pop.finish
  "ok (#{mails.size} fetched)"
rescue Exception => e
  "#{e.class}: #{e.message[0, 60]}"
end
puts JSON.generate({ "result" => result })
