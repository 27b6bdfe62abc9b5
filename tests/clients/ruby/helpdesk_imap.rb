# The call sequence of a helpdesk product's IMAP channel driver (scheduled fetch), with Ruby's bundled
# net-imap: new, [STARTTLS verifying the peer], LOGIN, SELECT, SORT (DATE) US-ASCII ALL when CAPABILITY has
# SORT (else SEARCH ALL), per message FETCH of RFC822.SIZE FLAGS INTERNALDATE RFC822.HEADER then of RFC822,
# STORE +FLAGS (\Seen), and unless --keep STORE +FLAGS (\Deleted) and one EXPUNGE at the end; then a
# disconnect with no LOGOUT.  With --keep (the driver's keep-on-server) messages already \Seen are skipped.
# Usage: ruby helpdesk_imap.rb HOST PORT USER PASSWORD FOLDER [--starttls CA_FILE] [--keep] [--search]
# (--search takes the SEARCH path even when SORT is advertised).  Message bytes come back base64-encoded.
require "net/imap"
require "openssl"
require "base64"
require "json"

host, port, user, password, folder, *rest = ARGV
ca_file = (i = rest.index("--starttls")) ? rest[i + 1] : nil
keep = rest.include?("--keep")
force_search = rest.include?("--search")
result = { "ok" => false, "stage" => "new", "fetched" => [] }
imap = nil
begin
  imap = Net::IMAP.new(host, port: Integer(port), ssl: false, open_timeout: 16)
  if ca_file
    result["stage"] = "starttls"
    imap.starttls({ ca_file: ca_file, verify_mode: OpenSSL::SSL::VERIFY_PEER })
    result["tls"] = true
  end
  result["stage"] = "login"
  imap.login(user, password)
  result["stage"] = "select"
  imap.select(Net::IMAP.encode_utf7(folder))
  result["exists"] = imap.responses["EXISTS"].last
  result["stage"] = "capability"
  sort = imap.capability.include?("SORT") && !force_search
  result["stage"] = sort ? "sort" : "search"
  ids = sort ? imap.sort(["DATE"], ["ALL"], "US-ASCII") : imap.search(["ALL"])
  result["command"] = sort ? "SORT" : "SEARCH"
  result["ids"] = ids
  ids.each do |id|
    result["stage"] = "fetch meta"
    meta = imap.fetch(id, ["RFC822.SIZE", "FLAGS", "INTERNALDATE", "RFC822.HEADER"])[0]
    next if keep && meta.attr["FLAGS"].include?(:Seen)
    result["stage"] = "fetch"
    raw = imap.fetch(id, "RFC822")[0].attr["RFC822"]
    entry = {
      "seq" => meta.seqno,
      "size" => meta.attr["RFC822.SIZE"],
      "flags" => meta.attr["FLAGS"].map(&:to_s),
      "internaldate" => meta.attr["INTERNALDATE"],
      "header" => Base64.strict_encode64(meta.attr["RFC822.HEADER"]),
      "body" => Base64.strict_encode64(raw),
    }
    result["stage"] = "store seen"
    entry["after_seen"] = imap.store(id, "+FLAGS", [:Seen])&.first&.attr&.fetch("FLAGS", nil)&.map(&:to_s)
    unless keep
      result["stage"] = "store deleted"
      entry["after_deleted"] = imap.store(id, "+FLAGS", [:Deleted])&.first&.attr&.fetch("FLAGS", nil)&.map(&:to_s)
    end
    result["fetched"] << entry
  end
  unless keep
    result["stage"] = "expunge"
    result["expunged"] = imap.expunge
  end
  result["stage"] = "disconnect"
  result["ok"] = true
rescue StandardError => e
  result["error"] = e.class.name
  result["message"] = e.message
ensure
  imap&.disconnect unless imap.nil? || imap.disconnected?  # no LOGOUT, as the driver does
end
puts JSON.generate(result)
