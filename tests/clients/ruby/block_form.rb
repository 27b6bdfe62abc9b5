# Net::POP3.start with a block: fetch every message, delete it, and let the block's end send QUIT.
# Usage: ruby block_form.rb HOST PORT USER PASSWORD
require "net/pop"
require "json"

host, port, user, password = ARGV
mails = []
begin
  Net::POP3.start(host, Integer(port), user, password) do |pop|
    pop.each_mail do |m|
      mails << { "number" => m.number, "size" => m.length, "uidl" => m.unique_id, "body" => m.pop }
      m.delete
    end
  end
  puts JSON.generate({ "ok" => true, "mails" => mails })
rescue StandardError => e
  puts JSON.generate({ "ok" => false, "error" => e.class.name, "message" => e.message, "mails" => mails })
end
