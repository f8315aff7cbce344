#use "/etc/passwd"
