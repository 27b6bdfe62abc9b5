# The helpdesk's IMAP channel (zammad's app/models/channel/driver/imap.rb) with Ruby's Net::IMAP: optional
# STARTTLS (with STARTTLS=1 in the environment), LOGIN, SELECT, SORT (DATE) US-ASCII ALL if advertised
# (else SEARCH ALL), FETCH of RFC822.SIZE FLAGS INTERNALDATE RFC822.HEADER then RFC822 by
# sequence number, STORE +FLAGS (\Seen) and (\Deleted), EXPUNGE, and a disconnect without LOGOUT.
# Prints how it ended (for docs/imap_reactions.py).
# Usage: ruby helpdesk_imap_reaction.rb HOST PORT USER PASSWORD [TIMEOUT]
require "net/imap"
require "json"
require "timeout"

host, port, user, password, limit = ARGV
result = begin
  Timeout.timeout(Float(limit || 3)) do
    imap = Net::IMAP.new(host, port: Integer(port), open_timeout: 1)
    if ENV["STARTTLS"] == "1" && imap.capability.include?("STARTTLS")
      imap.starttls(verify_mode: OpenSSL::SSL::VERIFY_NONE)
    end
    imap.login(user, password)
    imap.select("INBOX")
    numbers = imap.capability.include?("SORT") ? imap.sort(["DATE"], ["ALL"], "US-ASCII") : imap.search(["ALL"])
    numbers.each do |n|
      meta = imap.fetch(n, "(RFC822.SIZE FLAGS INTERNALDATE RFC822.HEADER)")
      raise "no FETCH data for #{n}" if meta.nil? || meta.empty?
      imap.fetch(n, "RFC822")
      imap.store(n, "+FLAGS", [:Seen])
      imap.store(n, "+FLAGS", [:Deleted])
    end
    imap.expunge
    imap.disconnect
    "ok (#{numbers.size} fetched)"
  end
rescue Exception => e
  "#{e.class}: #{e.message.to_s.gsub(/\s+/, " ")[0, 60]}"
end
puts JSON.generate({ "result" => result })
